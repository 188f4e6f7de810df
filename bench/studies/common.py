"""What the studies share: payloads sized in tokens, a lean HTTP client, the server, raw forward
passes, summaries, fresh-start timing and the CPU description that goes with every result.

bench/studies/serving.py (torch: HTTP vs the raw forward pass) and bench/studies/runtimes.py
(torch vs ONNX Runtime) build on these, so both measure the same way.
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
from bench.local_service import LocalService, ServiceStartError
from bench.models import ROOT
from qaclient.stats import percentile
from service import routes

QUESTION = "Who lived near the river in the old city?"
PARAGRAPH = (
    "The old king lived in a large house near the forest, and each day he walked to the river "
    "with his dog. Many people in the city knew him, but few had ever spoken to him. In the "
    "spring the river was high and the bridge was closed, so he stayed at home with his books. "
    "His daughter was a teacher at the university, where she worked with students from many "
    "countries and wrote a history of the city and its church, its tower and its museum. "
)
TARGETS = {"small": 25, "medium": 380, "large": 2800}


def samples_per_payload(text: str) -> list[int]:
    """`--samples 100,30,10`: requests per payload, small,medium,large (as TARGETS orders them)."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if len(counts) != len(TARGETS) or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {len(TARGETS)} counts above 0, e.g. 100,30,10")
    return counts


def study_parser(
    prog: str, doc: str, *, samples: list[int], starts: int, out: Path
) -> argparse.ArgumentParser:
    """The options every study takes (requests per payload size, fresh starts, threads, the gap
    between measurements, where results go); a study adds its own."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n", maxsplit=1)[0])
    default = ",".join(map(str, samples))
    parser.add_argument(
        "--samples",
        type=samples_per_payload,
        default=samples,
        help=f"requests per payload and configuration: small,medium,large (default {default})",
    )
    parser.add_argument("--starts", type=int, default=starts, help=f"fresh-process starts (default {starts})")
    parser.add_argument("--threads", type=int, help="model threads on every side (default: available vCPUs)")
    parser.add_argument("--gap-ms", type=float, default=100.0, help="idle gap between measurements")
    parser.add_argument("--out", type=Path, default=out)
    return parser


def pinned(package: str, constraints: Path = ROOT / "constraints.txt") -> str:
    """`package==VERSION` as the repository's full pin set has it (`make lock` writes it): the
    studies' throwaway venvs install what the tests and the image run."""
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep and name.strip().lower() == package.lower():
            return f"{name.strip()}=={version.strip()}"
    raise LookupError(f"{constraints} pins no {package}")


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
    only the status line, Content-Length and Server-Timing are parsed. http.client's own cost per
    request (mostly its email-style header parsing) is the client's, not the service's, and was
    large enough to show up as request overhead (service/README.md, "Speed and memory").
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
        status, headers, data, elapsed = self.request("POST", routes.PREDICT, body)
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
    # Request overhead: end-to-end latency minus the raw forward pass timed here.
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
        starts.append(
            {
                "first_answer_s": round(timing.first_answer_s, 3),
                "peak_rss_mb": round(timing.peak_rss_mb or 0, 1),
                "imports_and_load_ms": _log_value(log, "model loaded", "load_ms"),
                "warmup_ms": _log_value(log, "model ready", "warmup_ms"),
                "decide_ms": _log_value(log, "openvino precision decided", "decide_ms"),  # precision auto
            }
        )
        print(f"start {i + 1}/{runs}: {timing.first_answer_s:.2f} s", file=sys.stderr)
    return starts
