"""`python -m service`: the same gunicorn server the image runs, configured from the env.

Equivalent to `gunicorn --config service/gunicorn.conf.py`, so tests and `make serve`
exercise what Cloud Run runs. Settings are checked first: a bad value prints one line
naming the variable and exits with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from service import lifecycle

CONFIG = Path(__file__).with_name("gunicorn.conf.py")


def main() -> int:
    lifecycle.preimport()  # overlaps the checksums; gunicorn.conf.py joins it before forking
    if lifecycle.read_settings() is None:
        return 2
    from gunicorn.app.wsgiapp import WSGIApplication  # noqa: PLC0415 - only once settings are OK

    sys.argv = ["gunicorn", "--config", str(CONFIG)]
    WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
