"""`python -m service`: the same gunicorn server the image runs, configured from the env.

Equivalent to `gunicorn --config service/gunicorn.conf.py`, so tests and `make serve`
exercise what Cloud Run runs. Settings are checked first: a bad value, or a port another
process holds, prints one line and exits with status 2.
"""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path

from service import lifecycle, routes, startup

CONFIG = Path(__file__).with_name("gunicorn.conf.py")
USAGE = f"""usage: python -m service

Serve the extractive-QA model in $MODEL_DIR over HTTP with gunicorn, as the container image does:
POST {routes.PREDICT}, GET {routes.HEALTH}, {routes.READY} and {routes.OPENAPI}. It takes no arguments;
settings come from the environment, e.g.

  MODEL_DIR   a directory written by `python -m service.bake` (required)
  PORT        port to listen on (default 8080)
  CONCURRENCY requests that run the model at once (default 1); MAX_QUEUE more may wait (default 4)
  LOG_LEVEL   DEBUG, INFO (default), WARNING, ERROR or CRITICAL

Every setting, its default and its bounds: service/README.md."""


def port_problem(port: int) -> str | None:
    """One line if `port` cannot be bound (gunicorn would retry five times, then trace back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - the address the server binds
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is already in use (another server running?): stop it, or set PORT"
            return f"cannot listen on port {port}: {exc.strerror}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if args:
        print(f"error: python -m service takes no arguments (got {args[0]!r}); see --help", file=sys.stderr)
        return 2
    startup.CLOCK.mark(startup.EXEC)  # the interpreter is up
    lifecycle.preimport()  # overlaps the checksums; gunicorn.conf.py joins it before forking
    settings = lifecycle.read_settings()
    if settings is None:
        return 2
    if (problem := port_problem(settings.port)) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from gunicorn.app.wsgiapp import WSGIApplication  # noqa: PLC0415 - only once settings are OK

    sys.argv = ["gunicorn", "--config", str(CONFIG)]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
