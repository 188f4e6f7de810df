"""Running the docs' commands as a user would: in a fresh copy of the repository, from its root.

The copy holds what a clone of this working tree holds (tracked files and untracked ones git
does not ignore), with `.venv` linked to this checkout's, so `make install` has nothing to do
(CI's `make test` has just run it) and nothing a command writes lands in this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def project_files(*pathspecs: str) -> list[str]:
    """What a clone of this working tree holds: tracked files and untracked ones git does not ignore."""
    command = ["git", "ls-files", "-co", "--exclude-standard", "-z", "--", *pathspecs]
    listed = subprocess.run(command, cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return sorted(filter(None, listed.split("\0")))


def fresh_copy(dest: Path) -> Path:
    for name in project_files():
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)  # keeps mtimes: make sees .venv as up to date
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())
    return dest


def user_env(**extra: str) -> dict[str, str]:
    """This process's environment without what a test runner adds (an activated venv, make's)."""
    # MAKELEVEL too: under `make test` a nested make would print "make[1]: Entering directory".
    added = ("VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in added}
    return {**env, **extra}


def shell(command: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn(command: str, cwd: Path, env: dict[str, str], log: Path, mode: str = "ab") -> subprocess.Popen:
    """A long-running doc command (a server) in the background, its own process group."""
    with log.open(mode) as out:  # a file, not a pipe nobody reads: it could fill
        return subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
