"""Every command a doc shows in a shell block runs as written from the repository root, or is
listed in doc_commands.NOT_RUN with why (a cloud, a GPU, a container engine, the network, a file
only the user has, or another test that runs it).

The runnable ones run doc by doc, in order, in a fresh copy of the repository (docs_helpers), as
a user would paste them. Three things differ from a user's terminal, all documented knobs: a free
port instead of 8080 (it may be taken), `make bench`'s DURATION shortened to keep the suite short
(12 s where SCALE_OUT_AT=10 needs the run to last past 10 s), and `models/` shared between the docs
of one test run so a generated model is baked once. A doc whose commands need a model directory or
a running service (the README's quick start says how to make them) first runs those README steps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from doc_commands import NOT_RUN, QUICKSTART, Command, all_commands, key, runnable, why_not_run
from docs_helpers import fresh_copy, shell, spawn, user_env

from bench.local_service import free_port

COMMANDS = all_commands()
RUN = runnable(COMMANDS)
SERVER = "make serve"
# Docs that use the README's quick start model (and its server) without making it themselves.
QUICKSTART_STEPS = [c for c in COMMANDS if c.doc == "README.md" and why_not_run(c) == QUICKSTART]
NEEDS = {
    "bench/README.md": [c for c in QUICKSTART_STEPS if not key(c).startswith(("curl", "make bench"))],
    "service/README.md": [c for c in QUICKSTART_STEPS if key(c).startswith(".venv/bin/python")],
}


def test_the_docs_show_commands_and_each_is_run_or_has_a_reason():
    counts = Counter(why_not_run(c) or "runs in tests/docs" for c in COMMANDS)
    print(f"\n{len(COMMANDS)} fenced commands: " + ", ".join(f"{n} {why}" for why, n in counts.most_common()))
    assert len(RUN) >= 20
    assert {c.doc for c in RUN} >= {"README.md", "bench/README.md", "policy/README.md", "service/README.md"}


def test_every_not_run_entry_is_still_shown_somewhere():
    shown = {key(c) for c in COMMANDS} | {f"{c.doc}: {key(c)}" for c in COMMANDS}
    assert not [entry for entry in NOT_RUN if entry not in shown], "stale NOT_RUN entries"


def test_no_doc_command_needs_an_activated_venv():
    # A bare `python -m …` fails with ModuleNotFoundError outside an activated .venv.
    bare = [c.where for c in COMMANDS if " python -m " in f" {c.text}" or "\npython -m " in c.text]
    assert not bare


def test_the_quick_start_steps_other_docs_rely_on_are_found():
    assert [key(c).split()[0] for c in NEEDS["service/README.md"]] == [".venv/bin/python"] * 2
    assert key(NEEDS["bench/README.md"][-1]).startswith(SERVER)


def start_server(command: str, repo: Path, env: dict[str, str], port: str, log: Path) -> subprocess.Popen:
    server = spawn(command, repo, {**env, "PORT": port}, log)
    deadline = time.monotonic() + 180
    while True:
        assert server.poll() is None, f"{command} exited:\n{log.read_text()}"
        try:
            if requests.get(f"http://localhost:{port}/ready", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{command} never became ready:\n{log.read_text()}"
        time.sleep(0.5)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def check(command: Command, done: subprocess.CompletedProcess) -> None:
    printed = done.stdout + done.stderr
    context = f"{command.where}: {command.text}\n{printed[-3000:]}"
    expects_error = command.shown.startswith("error:")
    assert (done.returncode != 0) if expects_error else (done.returncode == 0), context
    for line in command.shown.splitlines():
        if line.strip() not in ("", "…"):
            assert line in printed, context


@pytest.fixture(scope="module")
def shared_models(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("doc-models")


@pytest.mark.slow
@pytest.mark.parametrize("doc", sorted({c.doc for c in RUN}))
def test_the_docs_commands_run_as_written(doc, tmp_path, shared_models):
    repo = fresh_copy(tmp_path / "repo")
    (repo / "models").symlink_to(shared_models)
    port = str(free_port())
    servers: list[subprocess.Popen] = []
    try:
        for command in [*NEEDS.get(doc, []), *(c for c in RUN if c.doc == doc)]:
            text = command.text.replace("8080", port)
            env = user_env(DURATION="12" if "SCALE_OUT_AT" in text else "4")
            if key(command).startswith(SERVER):
                servers.append(start_server(text, repo, env, port, tmp_path / "serve.log"))
                continue
            check(command, shell(text, repo, env, timeout=600))
    finally:
        for server in servers:
            stop(server)
