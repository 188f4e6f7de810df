"""Which region an instance serves from: the variable the stack sets, declared once.

Imports nothing: the service reads it (service/settings.py, then the X-Instance-Region header of
service/headers.py) and the infra side sets it on each region's Cloud Run service
(infra/components/cloud_run.py); neither may load the other's dependencies.

Cloud Run sets no region variable of its own: its container runtime contract gives a service
PORT, K_SERVICE, K_REVISION and K_CONFIGURATION only
(https://cloud.google.com/run/docs/container-contract#env-vars). The metadata server knows the
region (`/computeMetadata/v1/instance/region`, same page), but asking costs a request at start
and there is no metadata server on a laptop, so the stack passes the region in.
"""

REGION_ENV = "INSTANCE_REGION"  # set per region by the stack; unset locally
# A Cloud Run location id (`us-central1`, `europe-west4`): lowercase letters, digits and hyphens,
# which is also what an HTTP header value may carry without escaping.
REGION_PATTERN = r"[a-z][a-z0-9-]{0,62}"
