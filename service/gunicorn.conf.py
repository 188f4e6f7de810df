# ruff: noqa: N999 - gunicorn's conventional file name, not an importable module
"""Gunicorn settings for the QA service; the image and `python -m service` both use this file.

One worker process (the model is CPU-bound and loaded once; more processes would copy it),
gthread with more threads than model slots (see service/admission.py), graceful timeout under
Cloud Run's 10 s SIGTERM window. Settings come from the environment (service/settings.py);
a bad value stops start-up here with one line on stderr.
"""

import logging
import os
import signal
import sys

from gunicorn.arbiter import Arbiter

from service import prefetch
from service.settings import Settings, SettingsError

# The app's imports run while the settings check MODEL_DIR's checksums (service/prefetch.py).
_imports = prefetch.preimport()
try:
    _settings = Settings.from_env()
except SettingsError as _exc:
    print(f"error: {_exc}", file=sys.stderr)
    raise SystemExit(2) from None
_imports.join()
prefetch.preimport(_settings.runtime).join()  # onnx: onnxruntime (no threads before a session)

wsgi_app = "service.app:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]
workers = 1
worker_class = "gthread"
threads = _settings.gunicorn_threads
# gthread's main loop heartbeats while requests run in threads: this only catches a wedged
# worker, not a slow request.
timeout = 60
# SIGTERM -> finish in-flight requests for at most 8 s; Cloud Run sends SIGKILL after 10 s.
graceful_timeout = 8
# Longer than typical front-end idle timeouts, so the proxy, not us, closes idle connections
# (a server-side close racing a new request is a classic source of sporadic 502s).
keepalive = 65
# The control socket (gunicorn >= 25) would be a file under $HOME shared by every instance.
control_socket_disable = True
accesslog = None  # the app logs each request itself, as JSON (service/app.py)
loglevel = _settings.log_level.lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "root": {"level": _settings.log_level, "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": _settings.log_level, "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
    },
}


def post_fork(server, worker):
    """In the new worker, before it imports the app: an ONNX model starts loading meanwhile."""
    prefetch.start(_settings)


def post_worker_init(worker):
    """Wire the app's state to the worker: SIGTERM -> not ready; failed load -> stop."""
    ext = worker.wsgi.extensions["qa"]
    state = ext.state

    # A model that cannot load will not load on retry either: exit with gunicorn's
    # "worker failed to boot" code, which makes the master halt (non-zero) instead of
    # respawning the worker forever; the platform then reports the crash.
    state.on_failure(lambda: os._exit(Arbiter.WORKER_BOOT_ERROR))

    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        ext.begin_drain()
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def worker_exit(server, worker):
    """In the worker, once gunicorn has finished with it: exit now, skip interpreter teardown.

    Tearing down torch, its thread pools and the executor threads takes seconds on a busy
    CPU, and every second after SIGTERM counts against Cloud Run's 10 s. All responses are
    sent by now; only the logs need flushing. (gunicorn also calls this hook in the master
    for a worker that is already gone: the pid check leaves that case alone.)
    """
    if os.getpid() != worker.pid:
        return
    exc = sys.exc_info()[1]
    if not isinstance(exc, SystemExit):
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exc.code if isinstance(exc.code, int) else 1)
