"""The OpenVINO serving path imports the runtime without the model converter (a start-up cut).

Each check runs in a fresh interpreter: what a process has imported is the behaviour under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_SERVING_IMPORTS = """
import json, sys
from service import lifecycle
lifecycle.preimport("openvino").join()  # what the gunicorn master imports for an openvino model
import service.app
serving = sorted(m for m in sys.modules if m.startswith(("openvino.tools", "openvino_telemetry")))
from openvino.tools.ovc import convert_model  # the bake's converter still imports afterwards
import openvino
print(json.dumps({"serving": serving, "converter": convert_model.__module__,
                  "core": type(openvino.Core()).__name__}))
"""


def _run(code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_serving_an_openvino_model_imports_no_converter_and_the_bake_still_can():
    report = _run(_SERVING_IMPORTS)
    assert report["serving"] == []
    assert report["converter"].startswith("openvino.tools.ovc")
    assert report["core"] == "Core"


def test_openvino_imported_whole_first_is_kept_as_it_is():
    report = _run(
        "import json, sys, openvino\n"
        "from service.qa.backends.openvino_runtime import ov\n"
        "print(json.dumps({'same': ov is openvino, 'converter': hasattr(ov, 'convert_model')}))"
    )
    assert report == {"same": True, "converter": True}
