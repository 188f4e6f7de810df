"""Flask app factory: routes, response headers, request log, error mapping.

`create_app(settings=None, model=None)`: settings default to the environment; pass a loaded
`QAModel` (tests) or let the app load `settings.model_dir` on its inference thread while
/health already answers (service/lifecycle.py). Gunicorn runs `service.app:create_app()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, Response, g, jsonify, request

from service import headers, lifecycle, routes, startup
from service.admission import Admission
from service.batching import Batcher, BatchInfo
from service.cpu_platform import this_cpu
from service.errors import (
    BodyTooLargeError,
    MalformedBodyError,
    NotReadyError,
    body_too_large_message,
    error_response,
)
from service.inference import InferenceRunner
from service.lifecycle import READY, ServiceState, await_before_drain_deadline
from service.metrics import ServiceMetrics
from service.openapi import build_openapi
from service.qa.model import Prediction, QAModel
from service.settings import Settings
from service.validation import check_content_type, parse_predict

log = logging.getLogger("service.requests")

# Not counted as requests (an instance's first request is its cold start) and logged at debug.
PROBES = frozenset({routes.HEALTH, routes.READY, routes.METRICS})


@dataclass
class QAExtension:
    """What the app holds at `app.extensions["qa"]` (gunicorn hooks and tests reach in here)."""

    settings: Settings
    state: ServiceState
    admission: Admission
    runner: InferenceRunner
    metrics: ServiceMetrics
    batcher: Batcher | None = None  # made for the loaded model when settings.batching is on
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def batcher_for(self, model: QAModel) -> Batcher:
        with self._lock:
            if self.batcher is None:
                self.batcher = Batcher(
                    model.forward,
                    submit=self.runner.submit,
                    max_wait_s=self.settings.batch_max_wait_ms / 1000,
                    max_windows=model.max_batch_windows,
                    timeout_s=self.settings.queue_timeout_s,
                    padding=model.tokenizer.padding,
                )
                # SIGTERM: queued batches run at once instead of waiting for company.
                self.state.on_drain(self.batcher.begin_drain)
            return self.batcher


def create_app(
    settings: Settings | None = None,
    model: QAModel | None = None,
    *,
    loader: Callable[[], QAModel] | None = None,
) -> Flask:
    """Build the app. With neither `model` nor `loader`, loads `settings.model_dir`."""
    settings = settings or Settings.from_env()
    state = ServiceState(settings.model_id, settings.model_revision)
    admission = Admission(settings.concurrency, settings.max_queue, settings.queue_timeout_s)
    ext = QAExtension(
        settings=settings,
        state=state,
        admission=admission,
        runner=InferenceRunner(settings.inference_threads),
        metrics=ServiceMetrics(state, admission, runtime=settings.runtime, precision=settings.precision),
    )
    app = Flask("service")
    # No automatic OPTIONS (an empty 200 HTML answer): OPTIONS gets the JSON 405 with Allow.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    # One byte of slack: Werkzeug silently truncates a chunked body at the limit, so the
    # route reads up to limit + 1 bytes and refuses anything longer itself.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.json.sort_keys = False  # keep answer, score, start, end in that order
    app.extensions["qa"] = ext
    state.on_drain(lambda: admission.begin_drain(state.drain_deadline or time.monotonic()))
    _register_hooks(app, ext)
    _register_probes(app, ext)
    _register_predict(app, ext)
    state.startup.mark(startup.IMPORTS)  # the worker has imported and built the app
    if model is not None:
        ext.runner.call(ext.state.set_model, model)  # warm up where requests will run
    else:
        ext.state.start_loading(loader or lifecycle.model_loader(settings), ext.runner)
    return app


def _register_hooks(app: Flask, ext: QAExtension) -> None:
    state, settings, service_metrics = ext.state, ext.settings, ext.metrics

    @app.before_request
    def _start() -> None:
        g.t0 = time.perf_counter()
        g.timings = {}
        g.log = {}
        g.ready_age_ms = state.ready_age_ms()
        if request.path in PROBES:
            g.number = state.served
        else:
            g.number = state.next_request_number()

    @app.after_request
    def _finish(response: Response) -> Response:
        total_ms = (time.perf_counter() - g.get("t0", time.perf_counter())) * 1000
        timings = {"inference": 0.0, **g.get("timings", {}), "total": total_ms}
        params = g.get("timing_params", {})
        response.headers[headers.INSTANCE_ID] = state.instance_id
        response.headers[headers.INSTANCE_REQUEST_COUNT] = str(g.get("number", state.served))
        if (ready_age := g.get("ready_age_ms")) is not None:
            response.headers[headers.INSTANCE_READY_AGE] = f"{ready_age:.1f}"
        if settings.region:  # a local run has none: the header is left out rather than empty
            response.headers[headers.INSTANCE_REGION] = settings.region
        response.headers[headers.SERVER_TIMING] = ", ".join(
            f"{name};dur={value:.3f}" + "".join(f";{k}={v}" for k, v in params.get(name, {}).items())
            for name, value in timings.items()
        )
        response.headers["Cache-Control"] = "no-store"
        extra = g.get("log", {})
        _log_request(response, timings, {"instance_id": state.instance_id, **extra})
        if request.path != routes.METRICS:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            service_metrics.observe(route, response.status_code, timings, extra.get("windows"))
        return response

    @app.errorhandler(Exception)
    def _error(exc: Exception) -> tuple[Response, int, dict[str, str]]:
        route, body, headers = error_response(exc, settings.max_body_bytes)
        if route.code == "internal":
            log.error("unhandled error", exc_info=exc)
        g.log = {**g.get("log", {}), "error_code": route.code}
        return jsonify(body), route.status, headers


def _register_probes(app: Flask, ext: QAExtension) -> None:
    state, settings = ext.state, ext.settings
    openapi = build_openapi(
        settings.model_id,
        settings.model_revision,
        settings.max_context_chars,
        max_question_tokens=settings.max_question_tokens,
        max_windows=settings.max_windows,
    )

    @app.get(routes.HEALTH)
    def health() -> Response:
        return jsonify(status="ok", phase=state.phase)

    @app.get(routes.READY)
    def ready() -> Response:
        if state.phase != READY:
            detail = f": {state.load_error}" if state.load_error else ""
            raise NotReadyError(
                f"model {settings.model_id}@{settings.model_revision} is {state.phase}{detail}"
            )
        backend = state.model.backend if state.model is not None else None
        return jsonify(
            status="ready",
            model_id=settings.model_id,
            model_revision=settings.model_revision,
            backend=getattr(backend, "name", settings.runtime),
            precision=getattr(backend, "precision", settings.precision),
            # e.g. openvino: the precision it really runs, and why if that differs
            **(backend.describe() if hasattr(backend, "describe") else {}),
            # int8: SQuAD EM/F1 of fp32 and int8 measured at bake time; null for other precisions
            accuracy_gate=settings.accuracy_gate,
            cpu=this_cpu().as_json(),  # the platform picks it; the instance can only report it
            instance_id=state.instance_id,
            **state.startup_fields(),  # where this instance's start went (service/startup.py)
        )

    @app.get(routes.OPENAPI)
    def openapi_json() -> Response:
        return jsonify(openapi)

    @app.get(routes.METRICS)
    def prometheus_metrics() -> Response:
        body, content_type = ext.metrics.exposition()
        return Response(body, content_type=content_type)


def _register_predict(app: Flask, ext: QAExtension) -> None:
    state, settings, admission, runner = ext.state, ext.settings, ext.admission, ext.runner

    @app.post(routes.PREDICT)
    def predict() -> Response:
        check_content_type(request.mimetype, request.mimetype_params.get("charset"))
        raw = request.get_data(cache=False)  # declared length over the limit -> 413
        if len(raw) > settings.max_body_bytes:
            raise BodyTooLargeError(body_too_large_message(settings.max_body_bytes))
        if request.content_length is not None and len(raw) < request.content_length:
            # The server hands over only whole requests; this guards any other way in.
            raise MalformedBodyError(
                f"request body ended after {len(raw)} of its declared {request.content_length} bytes"
            )
        req = parse_predict(raw, max_context_chars=settings.max_context_chars)
        model = state.model
        if model is None:
            raise NotReadyError(f"model {settings.model_id} is {state.phase}; retry shortly")
        # Draining still serves what can finish before the deadline (service/admission.py).
        with admission.slot() as queue_ms:
            batch = None
            if settings.batching:
                prediction, batch = _predict_batched(ext.batcher_for(model), model, req)
            elif getattr(model.backend, "thread_affine", True):  # torch: its OpenMP team's thread
                future = runner.submit(model.predict, req.question, req.context, req.options)
                prediction = await_before_drain_deadline(future, state)
            else:  # ONNX Runtime: the session owns its threads; no hand-off to pay for
                prediction = model.predict(req.question, req.context, req.options)
        g.timings = {"queue": queue_ms, **prediction.timings_ms}
        if batch is not None:
            g.timing_params = {"batch": {"size": batch.size, "windows": batch.windows}}
        g.log = {
            "windows": prediction.windows,
            "tokens": prediction.tokens,
            "question_tokens": prediction.question_tokens,
            "context_chars": len(req.context),
        }
        if batch is not None:
            g.log["batch_size"] = batch.size
        body: dict[str, object] = prediction.best.as_dict()
        if req.options.top_k > 1:
            body["answers"] = [a.as_dict() for a in prediction.answers]
        return jsonify(body)


def _predict_batched(batcher: Batcher, model: QAModel, req) -> tuple[Prediction, BatchInfo]:
    """Tokenize and decode on this thread; the forward pass is shared with whoever else came."""
    with batcher.reserve() as ticket:
        prepared = model.prepare(req.question, req.context)
        starts, ends, batch = ticket.run(prepared.windows.arrays)
    timings = {"batch": batch.wait_ms, "inference": batch.forward_ms}
    return model.decode(prepared, starts, ends, req.options, timings), batch


def _log_request(response: Response, timings: dict[str, float], extra: dict) -> None:
    # Probes come every few seconds and 503 while loading by design: debug level.
    level = logging.DEBUG if request.path in PROBES else logging.INFO
    if not log.isEnabledFor(level):
        return
    # Method, path, sizes and timings only: never the body, the query string or headers.
    log.log(
        level,
        f"{request.method} {request.path} {response.status_code}",
        extra={
            "httpRequest": {
                "requestMethod": request.method,
                "requestUrl": request.path,
                "status": response.status_code,
                "requestSize": str(request.content_length or 0),
                "responseSize": str(response.calculate_content_length() or 0),
                "latency": f"{timings['total'] / 1000:.6f}s",
            },
            "timings_ms": {k: round(v, 3) for k, v in timings.items()},
            "request_number": g.get("number"),
            **extra,
        },
    )
