"""The peers' side of the peer study: their own venvs, their exported models, their processes.

Each peer lives in a venv of its own under bench/out/venvs (made on first use, away from the
project's .venv): `optimum-onnx` + `optimum[onnxruntime]`, or `optimum-intel[openvino]`, each
with CPU torch and whatever transformers they resolve. bench/studies/peer_worker.py runs inside
them: `prepare` exports the checkpoint with the peer's own API, `serve`/`once` answer questions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from bench.models import ROOT, ensure_model
from bench.studies.common import pinned

OUT = ROOT / "bench" / "out" / "peers"
VENVS = ROOT / "bench" / "out" / "venvs"
WORKER = Path(__file__).with_name("peer_worker.py")
PEER_LOG = OUT / "peers-stderr.log"  # what the peer processes print
TORCH = pinned("torch")  # the repository's own pin (constraints.txt)
# Peer installs: each venv gets CPU torch first, then the peer's own resolution.
PEER_PACKAGES = {
    "ort": ["optimum-onnx==0.1.0", "optimum[onnxruntime]", "onnxruntime", "psutil"],
    "intel": ["optimum-intel[openvino]==2.2.0", "psutil"],
}
# The model each kind of peer serves, exported by its venv.
KIND_OF_VENV = {"ort": "ort", "intel": "ov"}


class PeerConfig(Protocol):
    venv: str
    kind: str
    model: Path | None
    ov_config: dict


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
            subprocess.run(
                [*pip, "--no-deps", "--index-url", "https://download.pytorch.org/whl/cpu", TORCH], check=True
            )
        subprocess.run([*pip, TORCH, *PEER_PACKAGES[name]], check=True)
        # optimum-intel pulls PyPI's torchvision, whose ops do not load against the CPU torch
        # wheel, and transformers then fails to import AutoProcessor; nothing here needs it.
        subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "torchvision"], check=False)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], check=True, capture_output=True, text=True)
    wanted = ("optimum", "onnxruntime", "openvino", "nncf", "transformers", "torch", "tokenizers", "numpy")
    return {
        line.split("==")[0]: line.split("==")[-1]
        for line in freeze.stdout.split()
        if line.split("==")[0].lower() in wanted or line.lower().startswith("optimum")
    }


def ensure_peer_models(venvs: list[str] | tuple[str, ...] = tuple(KIND_OF_VENV)) -> None:
    models = OUT / "models"
    checkpoint = ensure_model()
    for venv in venvs:
        kind = KIND_OF_VENV[venv]
        marker = models / f"{kind}-prepared.json"  # written once the export is complete
        if not marker.is_file():
            print(f"exporting the checkpoint for {venv} ...", file=sys.stderr)
            command = [
                str(venv_python(venv)),
                str(WORKER),
                "prepare",
                "--kind",
                kind,
                "--checkpoint",
                str(checkpoint),
                "--out",
                str(models),
            ]
            done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
            marker.write_text(done.stdout.strip().splitlines()[-1] + "\n", encoding="utf-8")


class PeerProcess:
    """A peer in its venv: answers one JSON request per line, timing itself."""

    def __init__(self, config: PeerConfig, threads: int, mode: str = "serve") -> None:
        command = [
            str(venv_python(config.venv)),
            str(WORKER),
            mode,
            "--kind",
            config.kind,
            "--model",
            str(config.model),
            "--threads",
            str(threads),
            "--ov-config",
            json.dumps(config.ov_config),
        ]
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": str(threads)}
        env.pop("PYTHONPATH", None)
        self.t0 = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=PEER_LOG.open("a"),
            text=True,
            cwd=ROOT,
            env=env,
        )

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


def peer_start(config: PeerConfig, threads: int, question: str, context: str) -> dict:
    peer = PeerProcess(config, threads, mode="once")
    first = peer.ask(question, context)
    elapsed = time.perf_counter() - peer.t0
    rss = json.loads(peer.process.stdout.readline())["vmhwm_mb"]
    peer.process.wait(timeout=30)
    return {"first_answer_s": round(elapsed, 3), "peak_rss_mb": round(rss, 1), "answer": first["answer"]}
