# ruff: noqa: N999 - gunicorn's conventional file name, not an importable module
"""Gunicorn settings for the QA service; the image and `python -m service` both use this file.

One worker process (the model is CPU-bound and loaded once; more processes would copy it),
gthread (requests read whole first: service/buffered_worker.py) with more threads than model
slots (see service/admission.py), graceful timeout under Cloud Run's 10 s SIGTERM window.
Settings come from the environment (service/settings.py); a bad value stops start-up here
with one line on stderr.
"""

from gunicorn.arbiter import Arbiter

from service import lifecycle, linger

# Settings checked (exit 2 with one line if bad) while the imports for loading run.
_settings = lifecycle.start_master()

wsgi_app = "service.app:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]
workers = 1
# gthread, with each request read whole by the main loop before it takes a thread (slow
# clients cannot starve the probes): service/buffered_worker.py, measured in service/README.md.
worker_class = "service.buffered_worker.BufferedThreadWorker"
threads = _settings.gunicorn_threads
# gthread's main loop heartbeats while requests run in threads: this only catches a wedged
# worker, not a slow request.
timeout = 60
# SIGTERM -> every request is answered within DRAIN_BUDGET_S (a 503 + Retry-After for what
# cannot finish); the last responses are written and the worker exits within this: well
# under the 10 s after which Cloud Run sends SIGKILL.
graceful_timeout = lifecycle.DRAIN_BUDGET_S + 2
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


# The worker's part of start-up and shut-down lives in service/lifecycle.py.
def post_fork(server, worker):
    """In the new worker, before it imports the app: an ONNX model starts loading meanwhile."""
    lifecycle.prefetch(_settings)


def post_worker_init(worker):
    """Wire the app's state to the worker: failed load -> stop; SIGTERM -> not ready."""
    lifecycle.attach_worker(worker.wsgi.extensions["qa"].state, Arbiter.WORKER_BOOT_ERROR)
    # Bodies declared larger than this are handed to the app at once, for its 413.
    worker.body_max = _settings.max_body_bytes + 64 * 1024


def post_request(worker, req, environ, resp):
    """After the response is sent: read what is left of an unread body (service/linger.py)."""
    linger.after_request(req, environ)


def worker_exit(server, worker):
    """Skip interpreter teardown: seconds that count against Cloud Run's SIGTERM window."""
    lifecycle.exit_worker_now(worker.pid)
