"""Names of the service's Prometheus metrics: declared once, imported by service/metrics.py and
by the infra side (PodMonitoring, PromQL alerts, dashboard), which must not import the model."""

PREFIX = "qa"
REQUEST_SECONDS = f"{PREFIX}_request_duration_seconds"
INFERENCE_SECONDS = f"{PREFIX}_inference_duration_seconds"
QUEUE_SECONDS = f"{PREFIX}_queue_duration_seconds"
WINDOWS = f"{PREFIX}_windows_per_request"
QUEUE_DEPTH = f"{PREFIX}_queue_depth"
IN_FLIGHT = f"{PREFIX}_inflight_requests"
MODEL_INFO = f"{PREFIX}_model"  # exposed as qa_model_info
PHASE = f"{PREFIX}_phase"
STARTUP_PHASE_SECONDS = f"{PREFIX}_startup_phase_seconds"  # label phase: service/startup.py PHASES
