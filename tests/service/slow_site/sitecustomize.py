"""Test-only: slows every forward pass of the service's model by QA_TEST_FORWARD_DELAY_S.

Put this directory on PYTHONPATH of a `python -m service` child and its requests stay in
flight long enough to overload it or to send SIGTERM meanwhile. Production code has no
such knob. Only service.qa.backends (NumPy) is imported here, so the gunicorn master stays as
light as in production; the patch takes effect when the worker loads its backend.
"""

import os
import sys
import time
from pathlib import Path

_DELAY = float(os.environ.get("QA_TEST_FORWARD_DELAY_S", "0") or 0)

if _DELAY > 0:
    # site runs before `python -m` puts the working directory on sys.path.
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    import service.qa.backends

    _load = service.qa.backends.load_backend

    class _Slow:
        def __init__(self, inner):
            self.inner = inner
            self.name = inner.name
            self.input_names = inner.input_names

        def __call__(self, inputs):
            time.sleep(_DELAY)
            return self.inner(inputs)

    def _load_slow(*args, **kwargs):
        return _Slow(_load(*args, **kwargs))

    service.qa.backends.load_backend = _load_slow
