"""Run the service image as Cloud Run and Knative run it, on a local engine (podman or docker).

`platform_run_argv` is the one definition of "as the platform runs it", shared by the image
tests (tests/image) and `python -m bench coldstart --image`: PORT chosen by the platform (never
the image's 8080), memory capped, uid 10001, read-only root filesystem with only /tmp writable
(tmpfs, like the emptyDir Knative gets), all capabilities dropped, no new privileges.

With podman: the runc runtime and the host network (what works on an unprivileged CI runner: no slirp, crun
refuses its cgroup mode); `network="none"` gives a container no network at all.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from infra.spec import SCRATCH_DIR, SCRATCH_SIZE_MIB
from service import routes

APP_UID = 10001  # service/Dockerfile's app user
TMP_SIZE = f"{SCRATCH_SIZE_MIB}m"
STOP_GRACE_S = 9  # Cloud Run sends SIGKILL 10 s after SIGTERM


class EngineError(RuntimeError):
    """No engine, or an engine command failed; one line."""


def engine() -> str:
    """podman where installed (this machine kind), else a docker whose daemon answers."""
    if shutil.which("podman"):
        return "podman"
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    ):
        return "docker"
    raise EngineError("no container engine: install podman (.ci/provision-containers.sh) or start Docker")


def run(argv: list[str], *, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        tail = " ".join(result.stderr.split())[-400:]
        raise EngineError(f"{' '.join(argv[:3])} ... failed (exit {result.returncode}): {tail}")
    return result


def platform_run_argv(
    tool: str,
    image: str,
    *,
    port: int,
    memory_mib: int,
    env: Mapping[str, str] | None = None,
    network: str = "host",
    name: str = "",
) -> list[str]:
    argv = [tool, "run", "-d"]
    if tool == "podman":
        # --read-only-tmpfs=false: podman would otherwise also make /run and /var/tmp writable.
        argv += ["--runtime", "runc", "--read-only-tmpfs=false"]
    argv += [
        f"--network={network}",
        f"--user={APP_UID}:{APP_UID}",
        "--read-only",
        f"--tmpfs={SCRATCH_DIR}:rw,nosuid,nodev,size={TMP_SIZE}",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        f"--memory={memory_mib}m",
        f"--env=PORT={port}",
    ]
    argv += [f"--env={key}={value}" for key, value in sorted((env or {}).items())]
    if name:
        argv.append(f"--name={name}")
    return [*argv, image]


@dataclass
class Container:
    tool: str
    id: str
    url: str
    started_at: float  # perf_counter() just before `run`

    def logs(self) -> str:
        result = run([self.tool, "logs", self.id], check=False)
        return result.stdout + result.stderr

    def inspect(self) -> dict:
        return json.loads(run([self.tool, "inspect", self.id]).stdout)[0]

    def running(self) -> bool:
        return bool(self.inspect()["State"]["Running"])

    def exit_code(self) -> int:
        return int(self.inspect()["State"]["ExitCode"])

    def exec(self, *argv: str) -> subprocess.CompletedProcess:
        return run([self.tool, "exec", self.id, *argv], check=False)

    def signal(self, name: str = "TERM") -> None:
        run([self.tool, "kill", f"--signal={name}", self.id])

    def wait_exit(self, timeout_s: float) -> float | None:
        """Seconds until the container stopped, None if it was still running at `timeout_s`."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout_s:
            if not self.running():
                return time.perf_counter() - t0
            time.sleep(0.05)
        return None

    def peak_memory_mib(self) -> float | None:
        """The container cgroup's peak memory (cgroup v1 max_usage, v2 memory.peak)."""
        pid = self.inspect()["State"]["Pid"]
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for base, name in (
                (f"/sys/fs/cgroup/memory{path}", "memory.max_usage_in_bytes"),
                (f"/sys/fs/cgroup{path}", "memory.peak"),
            ):
                if (controllers in ("memory", "")) and (Path(base) / name).is_file():
                    return int((Path(base) / name).read_text()) / 2**20
        return None

    def remove(self) -> None:
        run([self.tool, "rm", "-f", "-t", "0", self.id], check=False)


def start(tool: str, image: str, *, port: int, memory_mib: int, **kwargs) -> Container:
    argv = platform_run_argv(tool, image, port=port, memory_mib=memory_mib, **kwargs)
    started = time.perf_counter()
    container_id = run(argv).stdout.strip().splitlines()[-1]
    return Container(tool, container_id, f"http://127.0.0.1:{port}", started)


def wait_answer(container: Container, payload: dict, timeout_s: float = 120) -> float:
    """Seconds from `run` to the first 200 from POST /predict."""
    deadline = container.started_at + timeout_s
    while time.perf_counter() < deadline:
        try:
            if requests.post(container.url + routes.PREDICT, json=payload, timeout=5).status_code == 200:
                return time.perf_counter() - container.started_at
        except requests.RequestException:
            pass
        if not container.running():
            raise EngineError(f"container exited: {' | '.join(container.logs().splitlines()[-3:])}")
        time.sleep(0.01)
    raise EngineError(f"no answer within {timeout_s:g} s: {' | '.join(container.logs().splitlines()[-3:])}")


def image_labels(tool: str, image: str) -> dict[str, str]:
    data = json.loads(run([tool, "image", "inspect", image]).stdout)[0]
    return data.get("Labels") or data.get("Config", {}).get("Labels") or {}


def image_layers(tool: str, image: str) -> list[str]:
    data = json.loads(run([tool, "image", "inspect", image]).stdout)[0]
    return list(data["RootFS"]["Layers"])


def layer_sizes(tool: str, image: str) -> dict[str, tuple[int, int]]:
    """{diff id: (bytes, gzip bytes)} of every layer, from `save` (gzip -6: what a push stores)."""
    sizes: dict[str, tuple[int, int]] = {}
    layers = image_layers(tool, image)
    with tempfile.TemporaryDirectory(prefix="qa-layers-") as tmp:
        archive = Path(tmp) / "image.tar"
        run(
            [tool, "save", "--format=docker-archive", "-o", str(archive), image]
            if tool == "podman"
            else [tool, "save", "-o", str(archive), image],
            timeout=1200,
        )
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))[0]
            for diff_id, member in zip(layers, manifest["Layers"], strict=True):
                sizes[diff_id] = _gzip_size(tar.extractfile(member))
    return sizes


def _gzip_size(handle) -> tuple[int, int]:
    raw, sink = 0, _Counter()
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6) as gz:
        while block := handle.read(1 << 20):
            raw += len(block)
            gz.write(block)
    return raw, sink.count


class _Counter:
    """A write-only file that only counts bytes."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        pass
