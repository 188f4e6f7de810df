"""Speed and memory of the QA service (issue 3): HTTP latency vs the raw forward pass.

    python -m bench.serving                      # or: make bench-serving
    python -m bench.serving --samples 200,60,20 --starts 3 --out bench/out/serving

On a DistilBERT-base-shaped random-weight model (bench/fake_model.py, cached under
models/distilbert-base), it measures in ONE run, interleaved so a noisy shared machine hurts
both sides alike:

* p50/p99 latency of POST /predict through the real server (`python -m service`: gunicorn,
  Flask, tokenization, batched forward, span decoding) at ~25, ~380 and ~2,800 tokens;
* the raw `model(**inputs)` forward pass on the same windows, in this process, with the same
  thread count - batched like the service, and window by window like the 4.x pipeline;
* process start -> first answer (bench.coldstart.time_start, fresh processes);
* the worker's peak RSS (VmHWM) after all of it.

and checks the issue's targets: overhead <= 10 % at 380 tokens and <= 5 ms at 25 tokens, long
contexts no slower than their windows' forward passes, start <= 2.5 s, peak RSS <= 700 MB.
Writes serving.json and prints a markdown report (service/README.md quotes it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.coldstart import time_start
from bench.headers import parse_server_timing
from bench.local_service import LocalService, ServiceStartError, peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
DEFAULT_OUT = ROOT / "bench" / "out" / "serving"
QUESTION = "Who lived near the river in the old city?"
PARAGRAPH = (
    "The old king lived in a large house near the forest, and each day he walked to the river "
    "with his dog. Many people in the city knew him, but few had ever spoken to him. In the "
    "spring the river was high and the bridge was closed, so he stayed at home with his books. "
    "His daughter was a teacher at the university, where she worked with students from many "
    "countries and wrote a history of the city and its church, its tower and its museum. "
)
TARGETS = {"small": 25, "medium": 380, "large": 2800}
OVERHEAD_PCT_AT_380 = 10.0
OVERHEAD_MS_AT_25 = 5.0
START_S = 2.5
PEAK_RSS_MB = 700.0


def ensure_model(preset: str = "distilbert-base") -> Path:
    path = MODELS / preset
    if not (path / "model.safetensors").is_file():
        from bench.fake_model import make_fake_qa_model  # noqa: PLC0415 - imports torch

        print(f"generating {preset} checkpoint in {path} ...", file=sys.stderr)
        make_fake_qa_model(path, preset=preset)
    return path


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 20 samples is the maximum: say so when quoting it)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Payload:
    name: str
    question: str
    context: str
    tokens: int = 0  # question + context tokens, no specials
    windows: int = 0
    window_tokens: int = 0  # all windows, specials and stride overlap included
    http_ms: list[float] = field(default_factory=list)
    server_ms: dict[str, list[float]] = field(default_factory=dict)
    raw_batched_ms: list[float] = field(default_factory=list)
    raw_windows_ms: list[float] = field(default_factory=list)


def build_payloads(tokenizer) -> list[Payload]:
    """Contexts trimmed word by word so the token counts land on the targets."""
    words = (PARAGRAPH * 60).split()
    question_tokens = tokenizer.count_tokens(QUESTION)
    payloads = []
    for name, target in TARGETS.items():
        # small/medium: total window length (specials included); large: tokens of the text.
        want = target - question_tokens - (tokenizer.special_tokens if name != "large" else 0)
        low, high = 1, len(words)
        while low < high:  # smallest word count reaching `want` context tokens
            mid = (low + high) // 2
            if tokenizer.count_tokens(" ".join(words[:mid])) >= want:
                high = mid
            else:
                low = mid + 1
        context = " ".join(words[:low])
        windows = tokenizer.windows(QUESTION, context, ("input_ids", "attention_mask"))
        payloads.append(
            Payload(
                name=name,
                question=QUESTION,
                context=context,
                tokens=question_tokens + tokenizer.count_tokens(context),
                windows=windows.count,
                window_tokens=windows.tokens,
            )
        )
    return payloads


class Client:
    """One kept-alive HTTP/1.1 connection, as a load balancer in front would hold.

    A plain socket: the request is encoded before the clock starts and sent in one write, and
    only the status line, Content-Length and Server-Timing are parsed. http.client (used until
    issue 5) spent 0.7 ms (GET /health) to 2 ms (POST /predict) per request of its own on this
    2-vCPU machine, mostly in its email-style header parsing: the client's cost, not the
    service's, so it no longer counts as request overhead (service/README.md, "Speed and memory").
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict, bytes, float]:
        """(status, lower-cased headers, body, milliseconds from send to the last byte)."""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        payload = (head + "\r\n").encode("ascii") + (body or b"")
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = self.sock
        t0 = time.perf_counter()
        sock.sendall(payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                self.close()
                raise ConnectionError("server closed the connection")
            data += chunk
        header_block, _, rest = data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                self.close()
                raise ConnectionError("server closed the connection mid-body")
            rest += chunk
        elapsed = (time.perf_counter() - t0) * 1000
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(lines[0].split()[1]), headers, rest[:length], elapsed

    def predict(self, body: bytes) -> tuple[float, dict[str, float], dict]:
        status, headers, data, elapsed = self.request("POST", "/predict", body)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
        return elapsed, parse_server_timing(headers.get("server-timing")), json.loads(data)


def start_server(model_dir: Path, env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, int]:
    service = LocalService(model_dir, log_path, {"LOG_LEVEL": "WARNING", **env}).start()
    try:
        service.wait_ready(timeout_s=300)
    except ServiceStartError:
        service.stop()
        raise
    return service.process, service.port


def raw_forward(model, torch, arrays: dict, batch: int | None) -> float:
    """Milliseconds of model(**inputs) on the windows: in padded batches of `batch` windows
    (as the service runs them), or one unpadded window at a time (batch=None, as 4.x did)."""
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    total = tensors["input_ids"].shape[0]
    t0 = time.perf_counter()
    with torch.inference_mode():
        if batch:
            for begin in range(0, total, batch):
                model(**{k: v[begin : begin + batch] for k, v in tensors.items()})
        else:
            for row in range(total):
                length = int(tensors["attention_mask"][row].sum())
                model(**{k: v[row : row + 1, :length] for k, v in tensors.items()})
    return (time.perf_counter() - t0) * 1000


def cpu_description() -> dict[str, str]:
    info = {"machine": platform.machine(), "cpus_available": str(len(os.sched_getaffinity(0)))}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return info
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in (
            "Model name",
            "CPU(s)",
            "Thread(s) per core",
            "Flags",
            "L3 cache",
            "Hypervisor vendor",
        ):
            info[key.strip()] = value.strip()
    return info


def summarise(payload: Payload) -> dict:
    def stats(values: list[float]) -> dict[str, float]:
        return {
            "p50": round(statistics.median(values), 2),
            "p99": round(percentile(values, 99), 2),
            "n": len(values),
        }

    result = {
        "tokens": payload.tokens,
        "windows": payload.windows,
        "window_tokens": payload.window_tokens,
        "context_chars": len(payload.context),
        "http_ms": stats(payload.http_ms),
        "raw_batched_ms": stats(payload.raw_batched_ms),
        "server_ms": {k: round(statistics.median(v), 2) for k, v in payload.server_ms.items()},
    }
    if payload.raw_windows_ms:
        result["raw_windows_ms"] = stats(payload.raw_windows_ms)
    # As the issue defines it: end-to-end latency minus the raw forward pass timed here.
    result["overhead_ms"] = round(result["http_ms"]["p50"] - result["raw_batched_ms"]["p50"], 2)
    result["overhead_pct"] = round(100 * result["overhead_ms"] / result["raw_batched_ms"]["p50"], 1)
    # Same process, no cross-process noise: end-to-end minus the server's own model time.
    in_process = statistics.median(
        h - i for h, i in zip(payload.http_ms, payload.server_ms.get("inference", []), strict=False)
    )
    result["overhead_vs_server_inference_ms"] = round(in_process, 2)
    return result


def _log_value(log_path: Path, message: str, key: str) -> float | None:
    try:
        lines = log_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == message and key in record:
            return float(record[key])
    return None


def measure_starts(model_dir: Path, env: dict[str, str], runs: int, out: Path) -> list[dict]:
    """Fresh processes: start -> first answer, peak RSS, and the load/warm-up parts from the log."""

    starts = []
    for i in range(runs):
        log = out / f"coldstart-{i}.log"
        timing = time_start(model_dir, {**env, "LOG_LEVEL": "INFO"}, log_path=log)
        starts.append({
            "first_answer_s": round(timing.first_answer_s, 3),
            "peak_rss_mb": round(timing.peak_rss_mb or 0, 1),
            "imports_and_load_ms": _log_value(log, "model loaded", "load_ms"),
            "warmup_ms": _log_value(log, "model ready", "warmup_ms"),
        })  # fmt: skip
        print(f"start {i + 1}/{runs}: {timing.first_answer_s:.2f} s", file=sys.stderr)
    return starts


def measure_interleaved(args: argparse.Namespace, model_dir: Path, env: dict[str, str], threads: int):
    """HTTP and raw forward passes in alternation; returns (payloads, peak RSS of the server)."""
    import torch  # noqa: PLC0415 - the raw baseline
    from transformers import AutoModelForQuestionAnswering  # noqa: PLC0415

    from service.tokenization import QATokenizer  # noqa: PLC0415

    tokenizer = QATokenizer(model_dir)
    payloads = build_payloads(tokenizer)
    torch.set_num_threads(threads)
    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True).eval()
    names = ("input_ids", "attention_mask")
    bodies = {p.name: json.dumps({"question": p.question, "context": p.context}).encode() for p in payloads}
    arrays = {p.name: tokenizer.windows(p.question, p.context, names).arrays for p in payloads}
    samples = dict(zip(TARGETS, args.samples, strict=True))

    def http(p: Payload) -> None:
        elapsed, timing, _ = client.predict(bodies[p.name])
        p.http_ms.append(elapsed)
        for name, value in timing.items():
            p.server_ms.setdefault(name, []).append(value)

    def raw(p: Payload) -> None:
        p.raw_batched_ms.append(raw_forward(model, torch, arrays[p.name], args.batch_windows))
        if p.windows > 1:
            p.raw_windows_ms.append(raw_forward(model, torch, arrays[p.name], None))

    process, port = start_server(model_dir, env, args.out / "server.log")
    try:
        client = Client(port)
        for p in payloads:  # warm both sides on every shape
            for _ in range(2):
                client.predict(bodies[p.name])
                raw_forward(model, torch, arrays[p.name], args.batch_windows)
        for round_no in range(max(samples.values())):
            for p in (p for p in payloads if round_no < samples[p.name]):
                # Alternate who goes first; idle gaps let the other process's OpenMP threads
                # stop spin-waiting, which would otherwise steal the vCPUs from the next run.
                for side in (http, raw) if round_no % 2 == 0 else (raw, http):
                    time.sleep(args.gap_ms / 1000)
                    side(p)
            if round_no % 10 == 9:
                print(f"round {round_no + 1}/{max(samples.values())}", file=sys.stderr)
        rss = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    return payloads, rss


def run(args: argparse.Namespace) -> dict:
    from service.cpus import available_cpus  # noqa: PLC0415

    model_dir = args.model_dir or ensure_model()
    threads = args.threads or available_cpus()
    env = {"NUM_THREADS": str(threads), "CONCURRENCY": "1", "MAX_BATCH_WINDOWS": str(args.batch_windows)}
    starts = measure_starts(model_dir, env, args.starts, args.out)
    payloads, rss = measure_interleaved(args, model_dir, env, threads)
    results = {p.name: summarise(p) for p in payloads}
    start_s = [s["first_answer_s"] for s in starts]
    large = results["large"]
    checks = {
        "overhead_380_pct": (results["medium"]["overhead_pct"], OVERHEAD_PCT_AT_380),
        "overhead_25_ms": (results["small"]["overhead_ms"], OVERHEAD_MS_AT_25),
        "long_context_vs_its_window_forwards_ms": (
            large["http_ms"]["p50"],
            large.get("raw_windows_ms", {}).get("p50"),
        ),
        "start_to_first_answer_s": (round(statistics.median(start_s), 2) if start_s else None, START_S),
        "peak_rss_worker_mb": (round(rss["worker_mb"], 1), PEAK_RSS_MB),
    }
    targets = {}
    for name, (measured, limit) in checks.items():
        met = measured is not None and limit is not None and measured <= limit
        targets[name] = {"measured": measured, "target": limit, "met": met}
    return {
        "command": "python -m bench.serving " + " ".join(args.argv),
        "model_dir": str(model_dir),
        "threads": threads,
        "max_batch_windows": args.batch_windows,
        "cpu": cpu_description(),
        "payloads": results,
        "starts": starts,
        "peak_rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "targets": targets,
    }


def render_markdown(result: dict) -> str:
    cpu = result["cpu"]
    lines = [
        f"Command: `{result['command']}`; {result['threads']} torch threads, "
        f"MAX_BATCH_WINDOWS={result['max_batch_windows']}; CPU: {cpu.get('Model name', '?')}, "
        f"{cpu.get('cpus_available')} vCPUs.",
        "",
        "| payload | tokens (windows) | HTTP p50 | HTTP p99 | raw forward p50, as served "
        "| raw forward p50, window by window | HTTP - raw | HTTP - server inference "
        "| server total / inference / tokenize / decode (p50) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["payloads"].items():
        server = r["server_ms"]
        per_window = r.get("raw_windows_ms", {}).get("p50")
        per_window_text = f"{per_window:.1f} ms" if per_window else "-"
        lines.append(
            f"| {name} | {r['tokens']} ({r['windows']}) | {r['http_ms']['p50']:.1f} ms "
            f"| {r['http_ms']['p99']:.1f} ms (n={r['http_ms']['n']}) | {r['raw_batched_ms']['p50']:.1f} ms "
            f"| {per_window_text} | {r['overhead_ms']:+.1f} ms ({r['overhead_pct']:+.1f} %) "
            f"| {r['overhead_vs_server_inference_ms']:+.1f} ms "
            f"| {server.get('total', 0):.1f} / {server.get('inference', 0):.1f} / "
            f"{server.get('tokenize', 0):.2f} / {server.get('decode', 0):.2f} ms |"
        )
    lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
    for name, t in result["targets"].items():
        lines.append(f"| {name} | {t['measured']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    lines += ["", f"Starts: {result['starts']}", f"Server peak RSS (VmHWM): {result['peak_rss_mb']} MB"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, help="default: generated models/distilbert-base")
    parser.add_argument(
        "--samples",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[200, 60, 20],
        help="requests per payload: small,medium,large (default 200,60,20)",
    )
    parser.add_argument("--starts", type=int, default=3, help="fresh-process start timings (default 3)")
    parser.add_argument("--threads", type=int, help="torch threads on both sides (default: available vCPUs)")
    parser.add_argument(
        "--batch-windows", type=int, default=2, help="MAX_BATCH_WINDOWS of the service and the baseline"
    )
    parser.add_argument("--gap-ms", type=float, default=100.0, help="idle gap between measurements")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.argv = argv
    if len(args.samples) != len(TARGETS):
        parser.error("--samples takes three numbers: small,medium,large")
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    (args.out / "serving.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {args.out / 'serving.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
