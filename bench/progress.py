"""A one-line progress bar on stderr (no dependency; redraws in place on a terminal)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 24


def render(elapsed_s: float, total_s: float, counts: dict[str, int]) -> str:
    fraction = min(max(elapsed_s / total_s, 0.0), 1.0) if total_s > 0 else 1.0
    filled = round(fraction * WIDTH)
    bar = "#" * filled + "-" * (WIDTH - filled)
    parts = "  ".join(f"{k} {v}" for k, v in counts.items())
    return f"[{bar}] {elapsed_s:5.1f}/{total_s:.0f} s  {parts}"


class Progress:
    """Redraws `render(...)` every `interval_s` from a daemon thread until `stop()`.

    On a terminal the line is redrawn in place; otherwise (CI logs, pipes) one line is
    printed every `log_interval_s` so logs stay short.
    """

    def __init__(
        self,
        total_s: float,
        counts: Callable[[], dict[str, int]],
        stream: TextIO | None = None,
        interval_s: float = 0.25,
        log_interval_s: float = 5.0,
    ):
        self.total_s = total_s
        self.counts = counts
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s if self.tty else log_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-progress", daemon=True)
        self._start = 0.0

    def start(self) -> Progress:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def _draw(self, final: bool = False) -> None:
        line = render(time.monotonic() - self._start, self.total_s, self.counts())
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._draw()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._draw(final=True)
