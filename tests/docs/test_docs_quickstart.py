"""The README's local quick start, run as written in a fresh copy of the repository
(docs_helpers.fresh_copy). The commands are the README's own text; only the port is
swapped for a free one (8080 may be taken on a shared machine) and `make bench` runs 4 s instead
of 20 (DURATION, a documented make variable) to keep CI short. The shown output is compared with
what the commands print: the model is generated with a fixed seed, so the answer is the same
random span every time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from docs_helpers import ROOT, fresh_copy, shell, spawn, user_env

from bench.local_service import free_port

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
        # A shown object that ends in ", …}" is abridged: its keys are checked, the rest not
        # shown (/ready goes on with the CPU, the start-up phases and the accuracy gate).
        abridged = shown.endswith(", …}")
        got, expected = (
            json.loads(printed),
            json.loads(shown.removesuffix(", …}") + "}" if abridged else shown),
        )
        if "instance_id" in expected:  # /ready: all but the random instance id
            got.pop("instance_id"), expected.pop("instance_id")
            assert ({k: got.get(k) for k in expected} if abridged else got) == expected
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
    env = user_env(DURATION="4")

    server = None
    try:
        for command in (c.replace("8080", port) for c in commands):
            if command.startswith(SERVE):  # the one long-running step: in the background
                server = spawn(command, repo, {**env, "PORT": port}, log, mode="wb")
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
