"""Peers: the project's runtimes over HTTP against Optimum + ONNX Runtime and optimum-intel in-process.

    python -m bench.studies.peers [--samples 30,15,5] [--starts 3] [--site-packages] [--agreement]

1. Peer venvs, away from the project's .venv (bench/out/venvs/{ort,intel}, made on first use):
   `optimum-onnx` + `optimum[onnxruntime]` and `optimum-intel[openvino]`, each with CPU torch
   and whatever transformers they resolve (their pins are in the report).
2. One DistilBERT-base-shaped random checkpoint (bench/fake_model.py), baked for the project by
   `python -m service.bake` (models/distilbert-base-<runtime>-<precision>) and exported for the
   peers by their own APIs (bench/studies/peer_worker.py `prepare`): Optimum's ONNX export +
   ORTQuantizer dynamic int8, optimum-intel's OpenVINO export + NNCF static int8 on the same
   calibration windows as the project.
3. Every configuration on the same thread count (NUM_THREADS / intra_op_num_threads /
   INFERENCE_NUM_THREADS): the project's as the real service (`python -m service`: gunicorn +
   Flask, one worker), timed over HTTP from this process; each peer as one long-lived process
   in its venv, timed inside that process (tokenizer + forward + the same span decoding, see
   peer_worker.py), so the peers pay no HTTP, JSON or process hop. Requests go round-robin
   over all configurations, the order rotating each round, so the shared machine's noise hits
   all alike; p50 per payload (~25, ~380, ~2,800 tokens).
4. Start -> first answer: fresh processes, alternating between configurations (project: spawn
   until the first 200 from /predict; peer: spawn until its first answer is printed).
5. Peak RSS: VmHWM of the project's worker (and its master) and of each peer process after the
   latency rounds. Site-packages (--site-packages): `du` of a throwaway venv per project role
   (bench/studies/runtimes.py) and of each peer venv, pip/setuptools excluded.
6. --agreement: best-span agreement with fp32 on the golden cases (tests/service/golden_qa_4x.json
   checkpoints), per project precision.

Writes bench/out/peers/peers.json and prints the markdown table (docs/bench/peers.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.local_service import peak_rss_mb
from bench.models import MODELS, ROOT, ensure_model
from bench.studies.common import (
    TARGETS,
    Client,
    build_payloads,
    cpu_description,
    measure_starts,
    pinned,
    start_server,
)
from bench.studies.runtimes import _du_mb, ensure_baked, site_packages_mb

OUT = ROOT / "bench" / "out" / "peers"
VENVS = ROOT / "bench" / "out" / "venvs"
WORKER = Path(__file__).with_name("peer_worker.py")
PEER_LOG = OUT / "peers-stderr.log"  # what the peer processes print
TORCH = pinned("torch")
# Peer installs: each venv gets CPU torch first, then the peer's own resolution.
PEER_PACKAGES = {
    "ort": ["optimum-onnx==0.1.0", "optimum[onnxruntime]", "onnxruntime", "psutil"],
    "intel": ["optimum-intel[openvino]==2.2.0", "psutil"],
}
# The targets, against the best peer of the same precision class in the same run.
LATENCY_RATIO = 1.0
START_RATIO = 0.25
RSS_RATIO = 0.6
SITE_PACKAGES_MB = 300
INT8_AGREEMENT = 0.95


@dataclass
class Config:
    label: str
    side: str  # "project" | "peer"
    klass: str  # precision class: "default" (bf16-capable), "fp32", "int8"
    runtime: str = ""  # project
    precision: str = ""
    venv: str = ""  # peer
    kind: str = ""
    model: Path | None = None
    ov_config: dict = field(default_factory=dict)
    ms: dict[str, list[float]] = field(default_factory=dict)
    starts: list[dict] = field(default_factory=list)
    rss: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)


def configs() -> list[Config]:
    models = OUT / "models"
    return [
        Config("project onnx fp32", "project", "fp32", runtime="onnx", precision="fp32"),
        Config("project onnx int8", "project", "int8", runtime="onnx", precision="int8"),
        Config("project openvino fp32", "project", "fp32", runtime="openvino", precision="fp32"),
        Config("project openvino bf16", "project", "default", runtime="openvino", precision="bf16"),
        Config("project openvino int8", "project", "int8", runtime="openvino", precision="int8"),
        Config("optimum-intel default", "peer", "default", venv="intel", kind="ov", model=models / "ov-fp32"),
        Config(
            "optimum-intel f32",
            "peer",
            "fp32",
            venv="intel",
            kind="ov",
            model=models / "ov-fp32",
            ov_config={"INFERENCE_PRECISION_HINT": "f32"},
        ),
        Config(
            "optimum-intel int8 (NNCF static)",
            "peer",
            "int8",
            venv="intel",
            kind="ov",
            model=models / "ov-int8",
        ),
        Config(
            "optimum + ORT int8 (dynamic)", "peer", "int8", venv="ort", kind="ort", model=models / "ort-int8"
        ),
    ]


def venv_python(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def ensure_venv(name: str) -> dict:
    python = venv_python(name)
    if not python.is_file():
        print(f"creating peer venv {name} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        local = subprocess.run([*pip, "--no-deps", "--no-index", TORCH], check=False)
        if local.returncode != 0:
            subprocess.run([*pip, "--no-deps", "--index-url", "https://download.pytorch.org/whl/cpu", TORCH],
                           check=True)  # fmt: skip
        subprocess.run([*pip, TORCH, *PEER_PACKAGES[name]], check=True)
        # optimum-intel pulls PyPI's torchvision, whose ops do not load against the CPU torch
        # wheel, and transformers then fails to import AutoProcessor; nothing here needs it.
        subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "torchvision"], check=False)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True)
    wanted = ("optimum", "onnxruntime", "openvino", "nncf", "transformers", "torch", "tokenizers", "numpy")
    return {line.split("==")[0]: line.split("==")[-1] for line in freeze.stdout.split()
            if line.split("==")[0].lower() in wanted or line.lower().startswith("optimum")}  # fmt: skip


def ensure_peer_models() -> None:
    models = OUT / "models"
    checkpoint = ensure_model()
    for venv, kind in (("ort", "ort"), ("intel", "ov")):
        marker = models / f"{kind}-prepared.json"  # written once the export is complete
        if not marker.is_file():
            print(f"exporting the checkpoint for {venv} ...", file=sys.stderr)
            command = [str(venv_python(venv)), str(WORKER), "prepare", "--kind", kind,
                       "--checkpoint", str(checkpoint), "--out", str(models)]  # fmt: skip
            done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
            marker.write_text(done.stdout.strip().splitlines()[-1] + "\n", encoding="utf-8")


class PeerProcess:
    """A peer in its venv: answers one JSON request per line, timing itself."""

    def __init__(self, config: Config, threads: int, mode: str = "serve") -> None:
        command = [str(venv_python(config.venv)), str(WORKER), mode, "--kind", config.kind,
                   "--model", str(config.model), "--threads", str(threads),
                   "--ov-config", json.dumps(config.ov_config)]  # fmt: skip
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": str(threads)}
        env.pop("PYTHONPATH", None)
        self.t0 = time.perf_counter()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=PEER_LOG.open("a"), text=True, cwd=ROOT, env=env)  # fmt: skip

    def ask(self, question: str, context: str) -> dict:
        self.process.stdin.write(json.dumps({"question": question, "context": context}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"peer exited with {self.process.wait()}")
        return json.loads(line)

    def close(self) -> float:
        """Peak RSS (MB) reported by the peer as it exits."""
        try:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
            return json.loads(line)["vmhwm_mb"] if line else 0.0
        finally:
            self.process.wait(timeout=30)


def peer_start(config: Config, threads: int, question: str, context: str) -> dict:
    peer = PeerProcess(config, threads, mode="once")
    first = peer.ask(question, context)
    elapsed = time.perf_counter() - peer.t0
    rss = json.loads(peer.process.stdout.readline())["vmhwm_mb"]
    peer.process.wait(timeout=30)
    return {"first_answer_s": round(elapsed, 3), "peak_rss_mb": round(rss, 1), "answer": first["answer"]}


def measure(args: argparse.Namespace, all_configs: list[Config], threads: int) -> None:  # noqa: PLR0912
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    project = [c for c in all_configs if c.side == "project"]
    for c in project:
        c.model = ensure_baked(c.runtime, c.precision)
    payloads = build_payloads(QATokenizer(project[0].model))
    seed = payloads[0]
    env = {"NUM_THREADS": str(threads), "CONCURRENCY": "1"}

    for i in range(args.starts):  # 1. fresh starts, alternating
        for c in all_configs:
            if c.side == "project":
                out = args.out / c.label.replace(" ", "-")
                out.mkdir(parents=True, exist_ok=True)
                run = measure_starts(c.model, env, 1, out)[0]
            else:
                run = peer_start(c, threads, seed.question, seed.context)
            c.starts.append(run)
            print(f"start {i + 1}/{args.starts} {c.label}: {run['first_answer_s']} s", file=sys.stderr)

    servers, peers, clients = {}, {}, {}
    try:  # 2. all configurations up at once, requests round-robin
        for c in all_configs:
            if c.side == "project":
                log = args.out / c.label.replace(" ", "-") / "server.log"
                servers[c.label] = start_server(c.model, env, log)
                clients[c.label] = Client(servers[c.label][1])
            else:
                peers[c.label] = PeerProcess(c, threads)
        bodies = {
            p.name: json.dumps({"question": p.question, "context": p.context}).encode() for p in payloads
        }

        def one(c: Config, p) -> float:
            if c.side == "project":
                try:
                    elapsed, _, answer = clients[c.label].predict(bodies[p.name])
                except ConnectionError:  # idle past gunicorn's keep-alive while the others ran
                    elapsed, _, answer = clients[c.label].predict(bodies[p.name])
            else:
                reply = peers[c.label].ask(p.question, p.context)
                elapsed, answer = reply["ms"], reply["answer"]
            c.answers[p.name] = answer
            return elapsed

        for c in all_configs:  # warm every side on every shape
            for p in payloads:
                for _ in range(2):
                    one(c, p)
        samples = dict(zip(TARGETS, args.samples, strict=True))
        for round_no in range(max(samples.values())):
            shift = round_no % len(all_configs)
            order = all_configs[shift:] + all_configs[:shift]
            for p in payloads:
                if round_no < samples[p.name]:
                    for c in order:
                        c.ms.setdefault(p.name, []).append(one(c, p))
            print(
                f"round {round_no + 1}/{max(samples.values())} load {os.getloadavg()[0]:.1f}", file=sys.stderr
            )
        for c in all_configs:
            if c.side == "project":
                c.rss = {k: round(v, 1) for k, v in peak_rss_mb(servers[c.label][0].pid).items()}
            else:
                c.rss = {"worker_mb": round(peers.pop(c.label).close(), 1)}
    finally:
        for client in clients.values():
            client.close()
        for process, _ in servers.values():
            from bench.local_service import stop_process  # noqa: PLC0415

            stop_process(process)
        for peer in peers.values():
            peer.process.kill()


def agreement() -> dict:
    """Best spans equal to the same runtime's fp32 on the golden cases (tiny checkpoints)."""
    import tempfile  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "tests" / "service" / "qa"))
    from golden_compare import GOLDEN, bake_for  # noqa: PLC0415

    from bench.fake_model import make_fake_qa_model  # noqa: PLC0415
    from service.qa.model import QAModel  # noqa: PLC0415

    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    pairs = {("onnx", "int8"): "onnx", ("openvino", "bf16"): "openvino", ("openvino", "int8"): "openvino"}
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        counts = {pair: [0, 0] for pair in pairs}
        for entry in golden["models"]:
            source = make_fake_qa_model(Path(tmp) / entry["arch"], preset=entry["preset"], arch=entry["arch"],
                                        seed=entry["seed"])  # fmt: skip
            for (runtime, precision), base in pairs.items():
                want = QAModel.load(bake_for(source, base, "fp32"), num_threads=1, max_question_tokens=200)
                got = QAModel.load(
                    bake_for(source, runtime, precision), num_threads=1, max_question_tokens=200
                )
                for case in entry["cases"]:
                    a = want.predict(case["question"], case["context"]).best
                    b = got.predict(case["question"], case["context"]).best
                    counts[runtime, precision][0] += (a.start, a.end) == (b.start, b.end)
                    counts[runtime, precision][1] += 1
        for (runtime, precision), (agree, total) in counts.items():
            result[f"{runtime} {precision}"] = {
                "agree": agree,
                "total": total,
                "share": round(agree / total, 3),
            }
    return result


def summarise(all_configs: list[Config]) -> dict:
    rows = {}
    for c in all_configs:
        rows[c.label] = {
            "side": c.side,
            "class": c.klass,
            "p50_ms": {name: round(statistics.median(v), 1) for name, v in c.ms.items()},
            "samples": {name: len(v) for name, v in c.ms.items()},
            "start_s_median": round(statistics.median(s["first_answer_s"] for s in c.starts), 2)
            if c.starts
            else None,
            "starts_s": [s["first_answer_s"] for s in c.starts],
            "peak_rss_mb": c.rss,
            "answer_medium": c.answers.get("medium"),
        }
    return rows


def check_targets(rows: dict, sizes: dict, agree: dict | None) -> dict:
    checks = {}
    peers = {k: v for k, v in rows.items() if v["side"] == "peer"}
    best_start = min(v["start_s_median"] for v in peers.values())
    best_rss = min(v["peak_rss_mb"]["worker_mb"] for v in peers.values())
    for label, row in rows.items():
        if row["side"] != "project":
            continue
        same = [v for v in peers.values() if v["class"] == row["class"]]
        for name in TARGETS:
            best = min(v["p50_ms"][name] for v in same)
            ratio = round(row["p50_ms"][name] / best, 2)
            checks[f"{label}: p50 {name} vs best {row['class']} peer"] = (ratio, LATENCY_RATIO)
        checks[f"{label}: start vs best peer"] = (round(row["start_s_median"] / best_start, 2), START_RATIO)
        checks[f"{label}: peak RSS vs best peer"] = (
            round(row["peak_rss_mb"]["worker_mb"] / best_rss, 2),
            RSS_RATIO,
        )
    for name, size in sizes.items():
        if name.startswith("project"):
            checks[f"{name}: site-packages MB"] = (size["without_pip_mb"], SITE_PACKAGES_MB)
    if agree:
        for name, value in agree.items():
            if "int8" in name:
                checks[f"{name}: span agreement with fp32"] = (value["share"], INT8_AGREEMENT)
    return {
        name: {"measured": m, "target": t, "met": m >= t if "agreement" in name else m <= t}
        for name, (m, t) in checks.items()
    }


def _size_key(label: str) -> str:
    """Row label -> its venv in result["site_packages"] ("project onnx", "optimum-intel", ...)."""
    if label.startswith("project "):
        return " ".join(label.split()[:2])
    return "optimum-intel" if label.startswith("optimum-intel") else "optimum + ORT"


def render_markdown(result: dict) -> str:
    lines = [
        f"CPU: {result['cpu'].get('Model name', '?')}, {result['threads']} threads; flags include "
        f"{', '.join(result['cpu_flags_of_note'])}. Load average during the run: {result['load_average']}.",
        "",
        "| configuration | how timed | ~25 tok p50 | ~380 tok p50 | ~2,800 tok p50 | start → first answer | "
        "peak RSS | site-packages |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in result["rows"].items():
        size = result["site_packages"].get(_size_key(label)) or {}
        how = "HTTP (gunicorn)" if row["side"] == "project" else "in-process"
        p = row["p50_ms"]
        lines.append(
            f"| {label} | {how} | {p['small']:.0f} ms | {p['medium']:.0f} ms | {p['large'] / 1000:.2f} s | "
            f"{row['start_s_median']:.2f} s | {row['peak_rss_mb']['worker_mb']:.0f} MB | "
            f"{str(size.get('without_pip_mb', '')) + ' MB' if size else '—'} |"
        )
    if result.get("agreement"):
        lines += ["", "| precision | best spans equal to fp32 (golden cases) |", "|---|---|"]
        for name, value in result["agreement"].items():
            lines.append(f"| {name} | {value['agree']}/{value['total']} ({value['share']:.1%}) |")
    lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
    for name, check in result["targets"].items():
        lines.append(
            f"| {name} | {check['measured']} | {check['target']} | {'yes' if check['met'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.studies.peers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--samples", default="30,15,5", help="requests per config at ~25,~380,~2,800 tokens")
    parser.add_argument("--starts", type=int, default=3, help="fresh starts per configuration")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--site-packages", action="store_true", help="also du throwaway venvs (slow)")
    parser.add_argument("--agreement", action="store_true", help="also span agreement on the golden cases")
    parser.add_argument("--only", help="comma-separated labels to run (default all)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", type=Path, metavar="JSON", help="only print the table of a report")
    args = parser.parse_args(argv)
    if args.render:
        print(render_markdown(json.loads(args.render.read_text(encoding="utf-8"))))
        return 0
    args.samples = [int(x) for x in args.samples.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    MODELS.mkdir(exist_ok=True)
    versions = {name: ensure_venv(name) for name in PEER_PACKAGES}
    ensure_peer_models()
    chosen = configs()
    if args.only:
        wanted = {s.strip() for s in args.only.split(",")}
        chosen = [c for c in chosen if c.label in wanted]
    load_before = os.getloadavg()
    measure(args, chosen, args.threads)
    rows = summarise(chosen)
    sizes: dict = {}
    if args.site_packages:
        import tempfile  # noqa: PLC0415

        for runtime in ("onnx", "openvino"):
            sizes[f"project {runtime}"] = site_packages_mb(runtime, Path(tempfile.gettempdir()))
        for name, label in (("intel", "optimum-intel"), ("ort", "optimum + ORT")):
            site = next((VENVS / name / "lib").glob("python3*/site-packages"))
            total = _du_mb(site)
            tooling = sum(_du_mb(p) for p in site.iterdir() if p.name.split("-")[0] in ("pip", "setuptools"))
            sizes[label] = {"site_packages_mb": total, "without_pip_mb": total - tooling}
    agree = agreement() if args.agreement else None
    cpu = cpu_description()
    flags = cpu.get("Flags", "").split()
    has_peers = any(r["side"] == "peer" for r in rows.values())
    targets = check_targets(rows, sizes, agree) if has_peers else {}
    result = {
        "cpu": {k: v for k, v in cpu.items() if k != "Flags"},
        "cpu_flags_of_note": [
            f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f in flags
        ]
        + [f"no {f}" for f in ("amx_bf16",) if f not in flags],
        "threads": args.threads,
        "load_average": [round(x, 1) for x in (*load_before, *os.getloadavg())],
        "peer_versions": versions,
        "rows": rows,
        "site_packages": sizes,
        "agreement": agree,
        "targets": targets,
        "command": "python -m bench.studies.peers " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    (args.out / "peers.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {args.out / 'peers.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
