"""Test-only: slows every torch forward pass by QA_TEST_FORWARD_DELAY_S seconds.

Put this directory on PYTHONPATH of a `python -m service` child and its requests stay in
flight long enough to send SIGTERM meanwhile. Production code has no such knob.
"""

import os
import time

_DELAY = float(os.environ.get("QA_TEST_FORWARD_DELAY_S", "0") or 0)

if _DELAY > 0:
    from service.backends import torch_backend

    _forward = torch_backend.TorchBackend.__call__

    def _slow_forward(self, inputs):
        time.sleep(_DELAY)
        return _forward(self, inputs)

    torch_backend.TorchBackend.__call__ = _slow_forward
