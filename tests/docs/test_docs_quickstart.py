"""The README's local quick start, run as written in a fresh copy of the repository.

The copy holds what a clone of this working tree holds (tracked files and untracked ones git
does not ignore), with `.venv` linked to this checkout's, so `make install` has nothing to do
(CI's `make test` has just run it). The commands are the README's own text; only the port is
swapped for a free one (8080 may be taken on a shared machine) and `make bench` runs 4 s instead
of 20 (DURATION, a documented make variable) to keep CI short. The shown output is compared with
what the commands print: the model is generated with a fixed seed, so the answer is the same
random span every time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from bench.local_service import free_port

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECTION = "## Run it locally"
SERVE = "make serve"

pytestmark = pytest.mark.slow  # generates and bakes a model, runs a server and make bench


def quick_start() -> tuple[list[str], list[tuple[str, str]]]:
    """(shell commands of the bash block, [(command, shown output)] of the console block)."""
    section = README[README.index(SECTION) :].split("\n## ", 1)[0]
    bash, console = re.findall(r"```(?:bash|console)\n(.*?)```", section, re.S)[:2]
    commands = [line.split("  #")[0].strip() for line in bash.splitlines() if line.strip()]
    steps: list[tuple[str, str]] = []
    for line in console.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        elif steps and steps[-1][0].endswith("\\"):
            steps[-1] = (steps[-1][0] + "\n" + line, "")
        elif steps:
            steps[-1] = (steps[-1][0], (steps[-1][1] + "\n" + line).strip("\n"))
    return commands, steps


def fresh_copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)  # keeps mtimes: make sees .venv as up to date
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    return dest


def shell(command: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


def wait_ready(server: subprocess.Popen, port: str, log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert server.poll() is None, log.read_text()
        try:
            if requests.get(f"http://localhost:{port}/ready", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "make serve never became ready"
        time.sleep(0.5)


def check_shown_output(command: str, shown: str, printed: str) -> None:
    if command.startswith("curl"):
        got, expected = json.loads(printed), json.loads(shown)
        if "instance_id" in expected:  # /ready: all but the random instance id
            got.pop("instance_id"), expected.pop("instance_id")
            assert got == expected
        else:  # /predict: the same random span; the score to float noise
            keys = ("answer", "start", "end")
            assert {k: got[k] for k in keys} == {k: expected[k] for k in keys}
            assert got["score"] == pytest.approx(expected["score"], rel=1e-3)
    else:  # make bench against the running server: the shown lines, up to the CPU and counts
        assert "Measured: runtime onnx, precision fp32" in shown
        for line in shown.splitlines():
            if line != "…":
                assert line.split("; CPU")[0].split(" × ")[0] in printed, (line, printed)
        assert re.search(r"Outcome by status: `200` × \d+\n", printed), printed  # and nothing else


def test_the_readme_quick_start_works_as_written(tmp_path):
    commands, steps = quick_start()
    assert any(c.startswith(SERVE) for c in commands), "the quick start serves with make serve"
    assert [c for c, _ in steps][-1].startswith("make bench"), "the quick start ends with make bench"
    repo = fresh_copy(tmp_path / "repo")
    port = str(free_port())
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS")}
    env.update(DURATION="4")

    server = None
    try:
        for command in (c.replace("8080", port) for c in commands):
            if command.startswith(SERVE):  # the one long-running step: in the background
                with log.open("wb") as out:  # a file, not a pipe nobody reads: it could fill
                    server = subprocess.Popen(["bash", "-c", command], cwd=repo, env={**env, "PORT": port},
                                              stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True)  # fmt: skip
                continue
            done = shell(command, repo, env, timeout=600)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert server is not None
        wait_ready(server, port, log)
        for command, shown in steps:
            done = shell(command.replace("8080", port), repo, env, timeout=300)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            check_shown_output(command, shown, done.stdout)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
