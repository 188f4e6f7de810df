"""The service's HTTP paths, declared once.

Imports nothing: the app and its OpenAPI document use these, and so do the infra side (probes,
uptime check, monitoring filters and queries, the rollout gate) and the HTTP client the rollout
gate and the benchmarks share, none of which may load Flask or the model.
"""

PREDICT = "/predict"  # POST: the answer to a question about a context
HEALTH = "/health"  # GET: 200 while the process lives (liveness)
READY = "/ready"  # GET: 503 until the model is loaded and warmed up, then 200 (startup, readiness)
OPENAPI = "/openapi.json"  # GET: the OpenAPI description of these routes
METRICS = "/metrics"  # GET: Prometheus text exposition of this instance

ALL = (PREDICT, HEALTH, READY, OPENAPI, METRICS)
