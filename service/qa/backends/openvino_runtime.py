"""OpenVINO's runtime, imported without its model converter: what serving an IR needs.

`import openvino` also imports `openvino.tools.ovc` (the model converter, with numpy.ma,
packaging and the telemetry client) only to re-export `convert_model`, inside a
`try: ... except ImportError` of openvino/__init__.py. A server reads IR the image's build
converted and never converts, and on the 2-vCPU AMD EPYC of docs/cold-starts.md that import
was about 60 ms of every start (openvino imported in 95 ms with it, 38 without; medians of 5
fresh interpreters with NumPy and the service already imported). So the converter's module is
marked missing while openvino imports, and unmarked after: a later
`from openvino.tools.ovc import convert_model` (the bake's) imports it as usual; only the
re-export `openvino.convert_model` is absent in a process that imported openvino here first.
"""

from __future__ import annotations

import sys

CONVERTER = "openvino.tools.ovc"


def _import_openvino():
    if "openvino" in sys.modules:  # already imported, converter or not: nothing to save
        import openvino  # noqa: PLC0415

        return openvino
    sys.modules[CONVERTER] = None  # an `import` of it raises ImportError, which openvino skips
    try:
        import openvino  # noqa: PLC0415
    except ImportError:  # an openvino that needs its converter to import: import it whole
        sys.modules.pop(CONVERTER, None)
        import openvino  # noqa: PLC0415
    finally:
        if CONVERTER in sys.modules and sys.modules[CONVERTER] is None:
            del sys.modules[CONVERTER]
    return openvino


ov = _import_openvino()
