"""Load generator: open loop (fixed arrival rate) or closed loop (fixed concurrency).

Over ~300 lines on purpose: both loops share the request, timing and cancellation code, and
splitting them apart would scatter what makes their numbers comparable.

Open loop (`rps`): request i is due at a fixed time (i / rps, or Poisson arrivals) and is
sent then, whether or not earlier requests have answered — so a slow server shows up as
queueing and rising latency, not as a politely slower client. At most `max_outstanding`
requests are in flight; a request that falls due while that many are outstanding is not
sent and is recorded as `overflow` (threads stay bounded, and the overload stays visible).

Closed loop (`concurrency`): C workers each send the next request as soon as their last
one answered — the classic "C users hammering" test; it measures capacity, not latency at
a given arrival rate.

Both stop sending at `duration_s` (or after `max_requests`). Requests still in flight then
get `grace_s` to finish; whatever is left is recorded as `cancelled`, so a run always ends
within duration + grace (plus a fraction of a second) whatever the server does. Worker
threads are daemons and their socket timeouts never reach past that hard end.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import requests

from bench import records as rec
from bench.headers import instance_fields
from bench.progress import Progress
from qaclient.payloads import DEFAULT_PAYLOAD
from qaclient.urls import predict_url

ARRIVALS = ("constant", "poisson")


@dataclass(frozen=True)
class LoadConfig:
    url: str
    duration_s: float
    rps: float | None = None  # open loop
    concurrency: int | None = None  # closed loop
    max_requests: int | None = None
    payloads: Sequence[Mapping] = (DEFAULT_PAYLOAD,)
    timeout_s: float = 30.0
    grace_s: float = 10.0
    max_outstanding: int = 128
    arrivals: str = "constant"
    seed: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        predict_url(self.url)  # raises on anything but an http(s) URL
        if (self.rps is None) == (self.concurrency is None):
            raise ValueError("give exactly one of rps (open loop) or concurrency (closed loop)")
        if self.rps is not None and self.rps <= 0:
            raise ValueError(f"rps must be > 0, got {self.rps}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"concurrency must be ≥ 1, got {self.concurrency}")
        if self.duration_s <= 0:
            raise ValueError(f"duration must be > 0 s, got {self.duration_s}")
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError(f"max-requests must be ≥ 1, got {self.max_requests}")
        if self.timeout_s <= 0 or self.grace_s < 0:
            raise ValueError("timeout must be > 0 and grace ≥ 0")
        if self.max_outstanding < 1:
            raise ValueError(f"max-outstanding must be ≥ 1, got {self.max_outstanding}")
        if self.arrivals not in ARRIVALS:
            raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}")
        if not self.payloads:
            raise ValueError("at least one payload is needed")

    @property
    def mode(self) -> str:
        return "open" if self.rps is not None else "closed"


@dataclass
class LoadResult:
    config: LoadConfig
    records: list[rec.RequestRecord]
    started_epoch: float  # wall clock at t = 0 of the run
    wall_s: float  # how long run() took, start to return


def arrival_offsets(
    rps: float,
    duration_s: float,
    arrivals: str = "constant",
    seed: int = 0,
    limit: int | None = None,
) -> list[float]:
    """Due times (s after start) of every request an open-loop run sends before duration_s."""
    offsets: list[float] = []
    rng = random.Random(seed)  # noqa: S311 — reproducible arrivals, not security
    t, i = 0.0, 0
    while t < duration_s and (limit is None or len(offsets) < limit):
        offsets.append(t)
        i += 1
        # constant: i / rps exactly (no accumulated rounding); poisson: exponential gaps.
        t = i / rps if arrivals == "constant" else t + rng.expovariate(rps)
    return offsets


class _Run:
    """State shared by the scheduler, the workers and the progress bar of one run."""

    def __init__(self, config: LoadConfig, clock: Callable[[], float] = time.perf_counter):
        self.config = config
        self.url = predict_url(config.url)
        self.clock = clock
        self.t0 = clock()
        self.started_epoch = time.time()
        self.deadline = self.t0 + config.duration_s
        self.hard_end = self.deadline + config.grace_s
        self.lock = threading.Condition()
        self.records: list[rec.RequestRecord] = []
        # seq → (scheduled, sent, epoch); sent/epoch are None while a worker picks it up
        self.in_flight: dict[int, tuple[float, float | None, float | None]] = {}
        self.finalized = False
        self.local = threading.local()
        self.counts = {"sent": 0, "ok": 0, "errors": 0, "overflow": 0}

    # --- bookkeeping --------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
            session.headers.update(self.config.headers)
        return session

    def add(self, record: rec.RequestRecord) -> None:
        with self.lock:
            self.in_flight.pop(record.seq, None)
            if self.finalized:  # came back after the run was closed: already counted as cancelled
                return
            self.records.append(record)
            if record.outcome == rec.OK:
                self.counts["ok"] += 1
            elif record.outcome == rec.OVERFLOW:
                self.counts["overflow"] += 1
            else:
                self.counts["errors"] += 1
            self.lock.notify_all()

    def dispatch(self, seq: int, scheduled_s: float) -> None:
        """Count a request as in flight from the moment it is handed to a worker."""
        with self.lock:
            self.in_flight[seq] = (scheduled_s, None, None)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {**self.counts, "in flight": len(self.in_flight)}

    def wait_idle(self) -> None:
        """Until nothing is in flight or the grace period is over."""
        with self.lock:
            while self.in_flight and (left := self.hard_end - self.clock()) > 0:
                self.lock.wait(timeout=min(left, 0.1))

    def finalize(self) -> list[rec.RequestRecord]:
        with self.lock:
            self.finalized = True
            for seq, (scheduled, sent, epoch) in sorted(self.in_flight.items()):
                self.records.append(
                    rec.RequestRecord(
                        seq=seq,
                        scheduled_s=scheduled,
                        sent_s=sent,
                        sent_epoch=epoch,
                        outcome=rec.CANCELLED,
                        error=f"no answer {self.config.grace_s:g} s after the run's deadline",
                    )
                )
            self.in_flight.clear()
            return sorted(self.records, key=lambda r: r.seq)

    # --- one request --------------------------------------------------------------------
    def send(self, seq: int, scheduled_s: float) -> None:
        payload = self.config.payloads[seq % len(self.config.payloads)]
        start = self.clock()
        sent_s, epoch = start - self.t0, time.time()
        with self.lock:
            self.in_flight[seq] = (scheduled_s, sent_s, epoch)
            self.counts["sent"] += 1
        # Never wait past the hard end: that is what bounds the run, not the server.
        wait_s = min(self.config.timeout_s, max(self.hard_end - start, 0.001))
        record = rec.RequestRecord(
            seq=seq,
            scheduled_s=scheduled_s,
            sent_s=sent_s,
            sent_epoch=epoch,
            outcome=rec.OTHER_ERROR,
        )
        try:
            response = self._session().post(self.url, json=payload, timeout=(wait_s, wait_s))
            record.latency_ms = (self.clock() - start) * 1000
            record.status = response.status_code
            record.outcome = rec.OK if 200 <= response.status_code < 300 else rec.HTTP_ERROR
            for key, value in instance_fields(response.headers).items():
                setattr(record, key, value)
            if record.outcome != rec.OK:
                record.error = _error_text(response)
        except requests.Timeout:
            cut_short = wait_s < self.config.timeout_s
            record.outcome = rec.CANCELLED if cut_short else rec.TIMEOUT
            record.error = (
                "no answer before the grace period ended"
                if cut_short
                else f"no answer within {self.config.timeout_s:g} s"
            )
        except requests.ConnectionError as exc:
            record.outcome = rec.CONNECTION_ERROR
            record.error = _short(exc)
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {_short(exc)}"
        if record.latency_ms is None and record.outcome != rec.CANCELLED:
            record.latency_ms = (self.clock() - start) * 1000
        self.add(record)


def _short(exc: BaseException, limit: int = 200) -> str:
    return " ".join(str(exc).split())[:limit]


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and "error" in body:
            return str(body["error"])[:200]
    except ValueError:
        pass
    return " ".join(response.text.split())[:200]


class _Workers:
    """At most `size` daemon threads, started only when needed, fed from one queue."""

    def __init__(self, size: int):
        self.size = size
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []

    def submit(self, busy: int, job: Callable[[], None]) -> None:
        # `busy` counts this job too; fewer threads than that means none is free to take it.
        if len(self.threads) < min(busy, self.size):
            thread = threading.Thread(
                target=self._work, name=f"bench-worker-{len(self.threads)}", daemon=True
            )
            self.threads.append(thread)
            thread.start()
        self.jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job()

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)


def _open_loop(run: _Run) -> None:
    cfg = run.config
    assert cfg.rps is not None
    offsets = arrival_offsets(cfg.rps, cfg.duration_s, cfg.arrivals, cfg.seed, cfg.max_requests)
    workers = _Workers(cfg.max_outstanding)
    outstanding = threading.BoundedSemaphore(cfg.max_outstanding)
    busy = [0]
    busy_lock = threading.Lock()

    def job(seq: int, due: float) -> Callable[[], None]:
        def go() -> None:
            try:
                run.send(seq, due)
            finally:
                with busy_lock:
                    busy[0] -= 1
                outstanding.release()

        return go

    try:
        for seq, due in enumerate(offsets):
            delay = run.t0 + due - run.clock()
            if delay > 0:
                time.sleep(delay)
            if run.clock() >= run.deadline:
                # The generator itself fell behind past the end: stop on time, but count
                # what was due rather than dropping it silently.
                for late_seq in range(seq, len(offsets)):
                    run.add(
                        rec.RequestRecord(
                            seq=late_seq,
                            scheduled_s=offsets[late_seq],
                            outcome=rec.OVERFLOW,
                            error="the load generator fell behind schedule past the deadline",
                        )
                    )
                break
            if not outstanding.acquire(blocking=False):
                run.add(
                    rec.RequestRecord(
                        seq=seq,
                        scheduled_s=due,
                        outcome=rec.OVERFLOW,
                        error=f"{cfg.max_outstanding} requests already in flight",
                    )
                )
                continue
            with busy_lock:
                busy[0] += 1
                now_busy = busy[0]
            run.dispatch(seq, due)
            workers.submit(now_busy, job(seq, due))
        run.wait_idle()
    finally:
        workers.close()


def _closed_loop(run: _Run) -> None:
    cfg = run.config
    assert cfg.concurrency is not None
    next_seq = [0]
    seq_lock = threading.Lock()

    def take() -> int | None:
        with seq_lock:
            if run.clock() >= run.deadline:
                return None
            if cfg.max_requests is not None and next_seq[0] >= cfg.max_requests:
                return None
            next_seq[0] += 1
            return next_seq[0] - 1

    def worker() -> None:
        while (seq := take()) is not None:
            run.send(seq, run.clock() - run.t0)

    threads = [
        threading.Thread(target=worker, name=f"bench-user-{i}", daemon=True) for i in range(cfg.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(run.hard_end - run.clock(), 0))


def run_load(config: LoadConfig, *, progress: bool = True) -> LoadResult:
    """Run one bounded load test and return every request's record, ordered by seq."""
    wall_start = time.perf_counter()
    run = _Run(config)
    bar = Progress(config.duration_s, run.snapshot).start() if progress else None
    try:
        (_open_loop if config.mode == "open" else _closed_loop)(run)
    finally:
        records = run.finalize()
        if bar:
            bar.stop()
    return LoadResult(
        config=config,
        records=records,
        started_epoch=run.started_epoch,
        wall_s=time.perf_counter() - wall_start,
    )
