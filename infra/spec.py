"""The platform-neutral description of the model service, and the pure builders behind it.

One `ModelServiceSpec` is rendered by the Cloud Run component and by the Knative component, so
both platforms get the same image, sizing, env and probes. Nothing here touches Pulumi
resources; `image` may be a `pulumi.Output` that the components pass through unopened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra import limits
from service import routes

CONTAINER_PORT = 8080
CONTAINER_NAME = "model"  # the model container on both platforms (alerts select it by name)
# service/Dockerfile's TORCH_INDEX: where the torch runtime's wheel comes from. The CPU index
# keeps several GB of CUDA out of CPU images; a GPU stack needs a CUDA build of the same torch.
TORCH_INDEX_CPU = "https://download.pytorch.org/whl/cpu"
TORCH_INDEX_CUDA = "https://download.pytorch.org/whl/cu126"
# The image's only writable path (service/Dockerfile: HF_HOME and temp files live there): platforms
# that run it with a read-only root filesystem mount a scratch volume of this size on it.
SCRATCH_DIR = "/tmp"  # noqa: S108 - a path inside the container, not a temp file here
SCRATCH_SIZE_MIB = 256
STARTUP_PROBE_PERIOD_SECONDS = 1  # probing every second lets traffic in as soon as the model is ready


@dataclass(frozen=True)
class Probe:
    path: str
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    initial_delay_seconds: int = 0


@dataclass(frozen=True)
class ModelServiceSpec:
    name: str
    image: Any  # str or pulumi.Output[str]: an image reference by digest
    cpu: str
    memory: str
    concurrency: int
    min_instances: int
    max_instances: int
    timeout_seconds: int
    env: tuple[tuple[str, str], ...]
    startup_probe: Probe
    liveness_probe: Probe
    # Both platforms route on it (Cloud Run's readiness probes are GA since 2026-06), and Cloud Run's
    # service health fails a region over on it behind the front door.
    readiness_probe: Probe
    startup_cpu_boost: bool
    cpu_always_allocated: bool
    execution_environment: str
    gpu: str = ""
    gpu_zonal_redundancy: bool = False
    port: int = CONTAINER_PORT

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)


def service_env(
    *,
    model_id: str,
    model_revision: str,
    concurrency: int,
    num_threads: int,
    max_context_chars: int,
    log_level: str,
    batching: bool = False,
    batch_max_wait_ms: int = 0,
    max_batch_windows: int = 0,
) -> tuple[tuple[str, str], ...]:
    """Environment of the container; the service validates each of these at start-up (its bounds
    are in service/bounds.py, and infra.limits keeps the stack inside them).

    PORT is absent on purpose: Cloud Run and Knative both set it from the container port. The
    batching variables appear only where they differ from the service's defaults (off; its
    runtime's MAX_BATCH_WINDOWS), so a CPU stack's revision is what it was before batching.
    """
    env = [
        ("MODEL_ID", model_id),
        ("MODEL_REVISION", model_revision),
        ("CONCURRENCY", str(concurrency)),
        # One inference thread per vCPU; the container cannot see cgroup limits reliably on gen1.
        ("NUM_THREADS", str(num_threads)),
        ("MAX_CONTEXT_CHARS", str(max_context_chars)),
        ("LOG_LEVEL", log_level),
    ]
    if batching:
        env += [("BATCHING", "1"), ("BATCH_MAX_WAIT_MS", str(batch_max_wait_ms))]
    if max_batch_windows:
        env.append(("MAX_BATCH_WINDOWS", str(max_batch_windows)))
    return tuple(env)


def startup_probe(model_load_seconds: int) -> Probe:
    threshold, _ = limits.startup_probe_budget(model_load_seconds, STARTUP_PROBE_PERIOD_SECONDS)
    return Probe(
        path=routes.READY,
        period_seconds=STARTUP_PROBE_PERIOD_SECONDS,
        timeout_seconds=1,
        failure_threshold=threshold,
    )


def liveness_probe() -> Probe:
    # A long inference holds the single worker thread busy; /health is served on its own thread,
    # and three misses 10 s apart still tolerate a stalled scheduler without killing real work.
    return Probe(path=routes.HEALTH, period_seconds=10, timeout_seconds=5, failure_threshold=3)


def readiness_probe() -> Probe:
    # Knative's queue-proxy and Cloud Run route to an instance only while this passes (Knative's
    # default is a bare TCP check, which would let requests in while the model still loads); a
    # miss never restarts. Cloud Run's service health counts a region healthy from it.
    return Probe(
        path=routes.READY,
        period_seconds=STARTUP_PROBE_PERIOD_SECONDS,
        timeout_seconds=1,
        failure_threshold=3,
    )


EXAMPLE_REQUEST = (
    '{"context": "Roses are red, violets are blue, sugar is sweet, and so are you.", '
    '"question": "What am I?"}'
)


def curl_example(url: str, public: bool) -> str:
    """A ready-to-paste request; a private service needs the caller's identity token."""
    auth = "" if public else ' -H "Authorization: Bearer $(gcloud auth print-identity-token)"'
    headers = f"-H 'Content-Type: application/json'{auth}"
    return f"curl -sS -X POST {url}{routes.PREDICT} {headers} -d '{EXAMPLE_REQUEST}'"
