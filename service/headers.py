"""The response headers every answer carries, declared once (service/README.md, "Response headers").

Imports nothing: the app sets them (service/app.py), its OpenAPI document describes them and
the load harness reads them (bench/headers.py) without loading Flask or the model.
"""

INSTANCE_ID = "X-Instance-Id"  # random per process: the harness counts instances with it
INSTANCE_REQUEST_COUNT = "X-Instance-Request-Count"  # 1 = the first non-probe request it served
INSTANCE_READY_AGE = "X-Instance-Ready-Age-Ms"  # ms since it became ready (absent before)
# The region the stack deployed the instance to (service/region.py); absent when it has none.
INSTANCE_REGION = "X-Instance-Region"
SERVER_TIMING = "Server-Timing"  # W3C Server Timing: inference, total, queue… in ms
