"""Does dynamic batching pay on a CPU, and does switching it off cost nothing? One run.

    git archive BASE | tar -x -C /tmp/qa-base        # the service before batching
    python -m bench.studies.batching --baseline-root /tmp/qa-base [--runtime torch|onnx]

On the DistilBERT-base-shaped random model (bench/fake_model.py), it starts real servers
(`python -m service`) and measures, interleaved round by round so the shared machine's noise
hits every side alike, medians quoted:

* latency at ~25, ~380 and ~2,800 tokens, one client: this tree with BATCHING=0 against the
  baseline tree's service (same model, same settings): batching off must not regress it;
* throughput and p50/p99 with 4 closed-loop clients at ~380 tokens: BATCHING=1 with
  CONCURRENCY=4, against BATCHING=0 with CONCURRENCY=4 and with the CPU default CONCURRENCY=1
  (the other three wait in the admission queue);
* the forward pass alone, in this process (no HTTP, no other server): four ~380-token windows
  as one padded batch vs one at a time, alternating - what batching can at best save.

Writes batching-<runtime>.json under --out and prints a markdown report (service/README.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.gpu_measure import burst
from bench.local_service import ROOT, LocalService
from bench.models import ensure_model
from bench.studies.common import Client, build_payloads, cpu_description
from qaclient.stats import percentile
from service.qa.tokenization import stack_windows

DEFAULT_OUT = ROOT / "bench" / "out" / "batching"


class TreeService(LocalService):
    """`python -m service` from another checkout of the repository (the baseline)."""

    def __init__(self, root: Path, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.root = root

    def start(self) -> TreeService:
        import subprocess  # noqa: PLC0415

        from bench.local_service import service_env  # noqa: PLC0415

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service"],
                cwd=self.root,
                env=service_env(self.model_dir, self.port, self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started_at = time.perf_counter()
        return self


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(percentile(values, 99), 2),
        "n": len(values),
    }


def model_for(runtime: str) -> Path:
    if runtime == "torch":
        return ensure_model()
    from bench.studies.runtimes import ensure_baked  # noqa: PLC0415

    return ensure_baked("onnx", "fp32")


def measure_latency(servers: dict[str, LocalService], payloads, samples, gap_s: float) -> dict:
    clients = {name: Client(s.port) for name, s in servers.items()}
    bodies = {p.name: json.dumps({"question": p.question, "context": p.context}).encode() for p in payloads}
    times = {(name, p.name): [] for name in servers for p in payloads}
    for p in payloads:
        for client in clients.values():
            client.predict(bodies[p.name])
    for round_no in range(max(samples)):
        for p, n in zip(payloads, samples, strict=True):
            if round_no >= n:
                continue
            order = list(clients) if round_no % 2 == 0 else list(reversed(clients))
            for name in order:
                time.sleep(gap_s)  # the other server's OpenMP threads stop spinning meanwhile
                times[name, p.name].append(clients[name].predict(bodies[p.name])[0])
        if round_no % 10 == 9:
            print(f"latency round {round_no + 1}/{max(samples)}", file=sys.stderr)
    result = {}
    for p in payloads:
        row = {"tokens": p.tokens, "windows": p.windows}
        for name in servers:
            row[name] = _stats(times[name, p.name])
        names = list(servers)
        row["ratio_p50"] = round(row[names[0]]["p50"] / row[names[1]]["p50"], 3)
        result[p.name] = row
    return result


def measure_throughput(
    servers: dict[str, LocalService], body: bytes, clients: int, rounds: int, burst_s: float
):
    runs = {name: ([], 0.0, []) for name in servers}
    for round_no in range(rounds):
        order = list(servers) if round_no % 2 == 0 else list(reversed(servers))
        for name in order:
            time.sleep(0.5)
            lat, sizes, elapsed = burst(servers[name].port, body, clients, burst_s)
            old = runs[name]
            runs[name] = (old[0] + lat, old[1] + elapsed, old[2] + sizes)
        print(f"throughput round {round_no + 1}/{rounds}", file=sys.stderr)
    return {
        name: {
            "requests_per_s": round(len(lat) / elapsed, 2),
            **_stats(lat),
            "mean_batch_size": round(statistics.mean(sizes), 2),
        }
        for name, (lat, elapsed, sizes) in runs.items()
    }


def measure_forward(model_dir: Path, payload, threads: int, repeats: int) -> dict:
    """Milliseconds for 4 requests' windows: one stacked forward pass vs 4 passes."""
    from service.qa.model import QAModel  # noqa: PLC0415
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    model = QAModel.load(model_dir, num_threads=threads, max_batch_windows=64)
    arrays = model.prepare(payload.question, payload.context).windows.arrays
    stacked = stack_windows([arrays] * 4, QATokenizer(model_dir).padding)
    times: dict[str, list[float]] = {"one_batch_of_4": [], "four_of_1": []}

    def batched() -> None:
        model.forward(stacked)

    def serial() -> None:
        for _ in range(4):
            model.forward(arrays)

    for fn in (batched, serial):
        fn()
    for i in range(repeats):
        for name, fn in (("one_batch_of_4", batched), ("four_of_1", serial))[:: 1 if i % 2 == 0 else -1]:
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    result = {name: _stats(v) for name, v in times.items()}
    result["ratio_p50"] = round(result["one_batch_of_4"]["p50"] / result["four_of_1"]["p50"], 3)
    return result


def run(args: argparse.Namespace) -> dict:
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    model_dir = model_for(args.runtime)
    payloads = build_payloads(QATokenizer(model_dir))
    base_env = {"LOG_LEVEL": "WARNING", "NUM_THREADS": str(args.threads)}
    latency_servers = {
        "batching_off": LocalService(model_dir, args.out / "off.log", {**base_env, "BATCHING": "0"}),
        "baseline": TreeService(args.baseline_root, model_dir, args.out / "baseline.log", base_env),
    }
    for s in latency_servers.values():
        s.start()
    try:
        for s in latency_servers.values():
            s.wait_ready(300)
        latency = measure_latency(latency_servers, payloads, args.samples, args.gap_ms / 1000)
    finally:
        for s in latency_servers.values():
            s.stop()
    medium = next(p for p in payloads if p.name == "medium")
    body = json.dumps({"question": medium.question, "context": medium.context}).encode()
    load_servers = {
        "on_c4": LocalService(
            model_dir, args.out / "on.log", {**base_env, "BATCHING": "1", "CONCURRENCY": "4"}
        ),
        "off_c4": LocalService(
            model_dir, args.out / "off4.log", {**base_env, "BATCHING": "0", "CONCURRENCY": "4"}
        ),
        "off_c1": LocalService(
            model_dir, args.out / "off1.log", {**base_env, "BATCHING": "0", "CONCURRENCY": "1"}
        ),
    }
    for s in load_servers.values():
        s.start()
    try:
        for s in load_servers.values():
            s.wait_ready(300)
        throughput = measure_throughput(load_servers, body, 4, args.rounds, args.burst_s)
    finally:
        for s in load_servers.values():
            s.stop()
    forward = measure_forward(model_dir, medium, args.threads, args.rounds * 10)
    return {
        "command": "python -m bench.studies.batching " + " ".join(args.argv),
        "runtime": args.runtime,
        "threads": args.threads,
        "cpu": cpu_description().get("Model name", "?"),
        "latency": latency,
        "throughput_4_clients_380_tokens": throughput,
        "forward_4_windows_380_tokens_ms": forward,
    }


def render_markdown(result: dict) -> str:
    lines = [
        f"`{result['command']}`; runtime {result['runtime']}, {result['threads']} threads; "
        f"CPU: {result['cpu']}",
        "",
        "| size | tokens (windows) | BATCHING=0 p50 / p99 | baseline p50 / p99 | p50 ratio |",
        "|---|---|---|---|---|",
    ]
    for name, r in result["latency"].items():
        off, base = r["batching_off"], r["baseline"]
        lines.append(
            f"| {name} | {r['tokens']} ({r['windows']}) | {off['p50']:.1f} / {off['p99']:.1f} ms "
            f"| {base['p50']:.1f} / {base['p99']:.1f} ms | {r['ratio_p50']:.3f} |"
        )
    lines += ["", "| 4 clients, ~380 tokens | req/s | p50 | p99 | mean batch |", "|---|---|---|---|---|"]
    for name, r in result["throughput_4_clients_380_tokens"].items():
        lines.append(
            f"| {name} | {r['requests_per_s']} | {r['p50']:.0f} ms | {r['p99']:.0f} ms "
            f"| {r['mean_batch_size']} |"
        )
    forward = result["forward_4_windows_380_tokens_ms"]
    lines += [
        "",
        f"Forward pass alone, 4 windows of ~380 tokens: one batch {forward['one_batch_of_4']['p50']:.0f} ms, "
        f"one at a time {forward['four_of_1']['p50']:.0f} ms (p50; ratio {forward['ratio_p50']}).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench.studies.batching", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--baseline-root", type=Path, required=True, help="a checkout of the service before batching"
    )
    parser.add_argument("--runtime", choices=("torch", "onnx"), default="torch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--samples", type=lambda s: [int(x) for x in s.split(",")], default=[60, 30, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst-s", type=float, default=10.0)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.argv = argv
    if not (args.baseline_root / "service" / "__main__.py").is_file():
        parser.error(f"--baseline-root {args.baseline_root}: no service/ there")
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    (args.out / f"batching-{args.runtime}.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
