"""`python -m service`: the same gunicorn server the image runs, configured from the env.

Equivalent to `gunicorn --config service/gunicorn.conf.py`, so tests and `make serve`
exercise what Cloud Run runs. Settings are checked first: a bad value prints one line
naming the variable and exits with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from service import prefetch
from service.settings import Settings, SettingsError

CONFIG = Path(__file__).with_name("gunicorn.conf.py")


def main() -> int:
    prefetch.preimport()  # overlaps the checksums; gunicorn.conf.py joins it before forking
    try:
        Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from gunicorn.app.wsgiapp import WSGIApplication  # noqa: PLC0415 - only once settings are OK

    sys.argv = ["gunicorn", "--config", str(CONFIG)]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
