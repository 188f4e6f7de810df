"""Which server under the Flask app: gunicorn's stock gthread worker vs the buffered one.

    python -m bench.studies.slow_clients --model-dir models/fake [--rounds 3] [--requests 200]

Each round starts each candidate in turn (interleaved, so both see the same machine load) with
`service/gunicorn.conf.py`, the stock worker by overriding `--worker-class gthread`, then:

* normal load: `--requests` POST /predict of the README's example from 4 client threads
  (median latency, requests per second);
* the attack: 50 connections that send one byte and go quiet plus 50 that trickle a request a
  byte every 0.5 s (bench/slow_clients.py), while GET /health is probed on fresh connections
  every 0.2 s for 6 s with a 3 s timeout (median, worst, probes that got no answer).

Prints one JSON line per candidate and round, then the medians over the rounds. Numbers and
the choice: service/README.md, "Slow clients".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.local_service import ROOT, free_port, stop_process
from bench.slow_clients import SlowClients, probe_latencies
from bench.studies.common import cpu_description
from service import routes

CANDIDATES = {
    "buffered gthread (service/buffered_worker.py)": [],
    "stock gthread": ["--worker-class", "gthread"],
}
SEED = {
    "question": "What am I?",
    "context": "Roses are red, violets are blue, sugar is sweet, and so are you.",
}
PROBE_TIMEOUT_S = 3.0


def start(model_dir: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MODEL_DIR": str(model_dir), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "gunicorn", "--config", "service/gunicorn.conf.py", *extra]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(url + routes.READY, timeout=2).ok:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_process(process)
    raise RuntimeError("server not ready in 300 s")


def normal_load(url: str, count: int) -> dict[str, float]:
    def one(_: int) -> float:
        t0 = time.perf_counter()
        requests.post(url + routes.PREDICT, json=SEED, timeout=60).raise_for_status()
        return (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        latencies = list(pool.map(one, range(count)))
    return {"median_ms": statistics.median(latencies), "rps": count / (time.perf_counter() - t0)}


def attack(url: str, port: int) -> dict[str, float]:
    with SlowClients(port, silent=50, trickling=50, interval_s=0.5):
        latencies = probe_latencies(url, duration_s=6.0, every_s=0.2, timeout_s=PROBE_TIMEOUT_S)
    return {
        "probe_median_ms": statistics.median(latencies) * 1000,
        "probe_worst_ms": max(latencies) * 1000,
        "probes_unanswered": sum(lat >= PROBE_TIMEOUT_S for lat in latencies),
        "probes": len(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.slow_clients", description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CANDIDATES}
    for round_number in range(args.rounds):
        for name, extra in CANDIDATES.items():
            process, url = start(args.model_dir, extra)
            try:
                row = {**normal_load(url, args.requests), **attack(url, int(url.rsplit(":", 1)[1]))}
            finally:
                stop_process(process)
            results[name].append(row)
            print(json.dumps({"round": round_number, "candidate": name, **row}), flush=True)
    cpu = cpu_description().get("Model name", "")
    for name, rows in results.items():
        medians = {key: round(statistics.median(r[key] for r in rows), 1) for key in rows[0]}
        print(json.dumps({"candidate": name, "medians": medians, "cpu": cpu}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
