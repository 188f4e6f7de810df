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

Prints the CPU first (model, family/model, AVX-512/VNNI/BF16/AMX: the numbers hold for that CPU
only), writes bench/out/peers/peers-<cpu>.json and prints the markdown table; docs/bench/ keeps
one such file per CPU measured (docs/openvino.md shows them side by side). `--only` with project
labels alone needs no peer venv.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.local_service import peak_rss_mb
from bench.models import MODELS, ROOT, ensure_baked
from bench.studies.common import (
    TARGETS,
    Client,
    build_payloads,
    cpu_description,
    measure_starts,
    start_server,
)
from bench.studies.peer_venvs import (
    OUT,
    PEER_PACKAGES,
    VENVS,
    PeerProcess,
    ensure_peer_models,
    ensure_venv,
    peer_start,
)
from bench.studies.peers_report import check_targets, render_markdown, result_stem, summarise
from bench.studies.runtimes import _du_mb, site_packages_mb
from service import routes
from service.cpu_platform import this_cpu


@dataclass
class Config:
    label: str
    side: str  # "project" | "peer"
    klass: str  # precision class: "auto" (the project's default), "default" (bf16-capable), "fp32", "int8"
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
    ready: dict = field(default_factory=dict)  # the project's /ready after the rounds


def configs() -> list[Config]:
    models = OUT / "models"
    return [
        Config("project onnx fp32", "project", "fp32", runtime="onnx", precision="fp32"),
        Config("project onnx int8", "project", "int8", runtime="onnx", precision="int8"),
        Config("project openvino auto", "project", "auto", runtime="openvino", precision="auto"),
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


def _fresh_starts(args: argparse.Namespace, all_configs: list[Config], threads: int, seed, env: dict) -> None:
    """Start -> first answer of fresh processes, alternating between the configurations."""
    for i in range(args.starts):
        for c in all_configs:
            if c.side == "project":
                out = args.out / c.label.replace(" ", "-")
                out.mkdir(parents=True, exist_ok=True)
                run = measure_starts(c.model, env, 1, out)[0]
            else:
                run = peer_start(c, threads, seed.question, seed.context)
            c.starts.append(run)
            print(f"start {i + 1}/{args.starts} {c.label}: {run['first_answer_s']} s", file=sys.stderr)


def measure(args: argparse.Namespace, all_configs: list[Config], threads: int) -> None:  # noqa: PLR0912
    from service.qa.tokenization import QATokenizer  # noqa: PLC0415

    project = [c for c in all_configs if c.side == "project"]
    for c in project:
        c.model = ensure_baked("distilbert-base", c.runtime, c.precision)
    payloads = build_payloads(QATokenizer(project[0].model))
    seed = payloads[0]
    env = {"NUM_THREADS": str(threads), "CONCURRENCY": "1"}

    _fresh_starts(args, all_configs, threads, seed, env)

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
                c.ready = _ready(servers[c.label][1])
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


def _ready(port: int) -> dict:
    """What the service says it runs: precision, how `auto` chose, on which CPU."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{routes.READY}", timeout=10) as response:
        body = json.loads(response.read())
    keys = ("precision", "execution_precision", "precision_choice", "cpu")
    return {key: body[key] for key in keys if key in body}


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
            source = make_fake_qa_model(
                Path(tmp) / entry["arch"], preset=entry["preset"], arch=entry["arch"], seed=entry["seed"]
            )
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
    cpu = this_cpu()
    print(f"CPU: {cpu.summary()}", file=sys.stderr)  # the numbers hold for this CPU only
    chosen = configs()
    if args.only:
        wanted = {s.strip() for s in args.only.split(",")}
        chosen = [c for c in chosen if c.label in wanted]
    peer_venvs = [name for name in PEER_PACKAGES if any(c.venv == name for c in chosen)]
    versions = {name: ensure_venv(name) for name in peer_venvs}
    ensure_peer_models(peer_venvs)
    load_before = os.getloadavg()
    measure(args, chosen, args.threads)
    rows = summarise(chosen)
    sizes: dict = {}
    if args.site_packages:
        import tempfile  # noqa: PLC0415

        for runtime in ("onnx", "openvino"):
            sizes[f"project {runtime}"] = site_packages_mb(runtime, Path(tempfile.gettempdir()))
        for name, label in (("intel", "optimum-intel"), ("ort", "optimum + ORT")):
            if name not in peer_venvs:
                continue
            site = next((VENVS / name / "lib").glob("python3*/site-packages"))
            total = _du_mb(site)
            tooling = sum(_du_mb(p) for p in site.iterdir() if p.name.split("-")[0] in ("pip", "setuptools"))
            sizes[label] = {"site_packages_mb": total, "without_pip_mb": total - tooling}
    agree = agreement() if args.agreement else None
    lscpu = cpu_description()
    has_peers = any(r["side"] == "peer" for r in rows.values())
    targets = check_targets(rows, sizes, agree) if has_peers else {}
    result = {
        "cpu": {**cpu.as_json(), "lscpu": {k: v for k, v in lscpu.items() if k != "Flags"}},
        "threads": args.threads,
        "load_average": [round(x, 1) for x in (*load_before, *os.getloadavg())],
        "peer_versions": versions,
        "rows": rows,
        "site_packages": sizes,
        "agreement": agree,
        "targets": targets,
        "command": "python -m bench.studies.peers " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    path = args.out / f"{result_stem(result['cpu'])}.json"  # one file per CPU
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(result))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
