"""Build the service image on this machine with the build args a stack deploys (`make image`).

    python -m infra image [--stack dev] [--runtime R] [--precision P]
        [--model-source HUB_ID_OR_DIR] [--model-revision REV] [--image NAME:TAG]
        [--build-arg KEY=VALUE ...] [--engine auto|docker|buildah]

The build args come from `infra.plan.image_build_args` on the stack's settings (with the options
as overrides), the function the deployed image's args (infra/components/image.py) come from, so
a local image bakes what `pulumi up` would. Docker is used where a daemon answers, else buildah
(images land in the storage podman runs from). A directory as --model-source is baked like a
Hub checkpoint, from a temporary copy of the context with it in model-src/ (service/Dockerfile).

With buildah the build gets the machine's package sources without keeping them: pip's merged
configuration and every local path it names (CA bundle, find-links, file:// indexes, constraint
files) are bind-mounted read-only into each RUN, never into a layer. Where the base image cannot
be pulled, a local image labelled as a stand-in for it is used (.ci/provision-containers.sh makes
one); where a torch wheel index does not answer, pip's own configuration is used for torch. Each
such substitution is said on stderr. The engine's output goes to stderr; the last line on stdout
is the built image reference.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = ROOT / "service"
DOCKERFILE = "Dockerfile"
MODEL_SRC = "model-src"  # the context directory service/Dockerfile bakes a local checkpoint from
STAND_IN_LABEL = "ai.qa.stand-in-for"  # set by .ci/provision-containers.sh on its base
TORCH_INDEX_ARGS = ("TORCH_INDEX", "BUILD_TORCH_INDEX")
ENGINES = ("auto", "docker", "buildah")
# pip settings whose values are local paths (or file:// URLs) the build must be able to read.
_PATH_KEYS = {
    "cert",
    "client-cert",
    "find-links",
    "constraint",
    "requirement",
    "index-url",
    "extra-index-url",
}
_PROBE_TIMEOUT_S = 5


class ImageBuildError(RuntimeError):
    """A build that cannot start or failed; str() is one line."""


@dataclass(frozen=True)
class BuildPlan:
    engine: str
    image: str
    context: Path
    build_args: dict[str, str]
    mounts: tuple[tuple[str, str], ...] = ()  # (host path, container path), read-only


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


# ---- what the Dockerfile declares ---------------------------------------------------------------
def dockerfile_default(name: str, dockerfile: Path = CONTEXT / DOCKERFILE) -> str:
    """The default of a global build arg (the one source for the real base image)."""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"ARG {name}="):
            return line.partition("=")[2].strip()
    raise ImageBuildError(f"{dockerfile} declares no ARG {name}")


# ---- pip's configuration, for a build that may only reach the machine's package sources -------
def parse_pip_config(listing: str) -> dict[str, dict[str, str]]:
    """`pip config list` output -> {section: {key: value}}, later lines winning (as pip does);
    environment variables (`:env:.key`) count as the global section."""
    sections: dict[str, dict[str, str]] = {}
    for line in listing.splitlines():
        key, sep, value = line.partition("=")
        if not sep or "." not in key:
            continue
        section, _, name = key.rpartition(".")
        section = "global" if section in (":env:", "") else section
        sections.setdefault(section, {})[name] = value.strip().strip("'\"")
    return sections


def pip_conf_text(sections: Mapping[str, Mapping[str, str]]) -> str:
    lines: list[str] = []
    for section, values in sorted(sections.items()):
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}" for key, value in sorted(values.items())]
    return "\n".join(lines) + "\n"


def pip_local_paths(sections: Mapping[str, Mapping[str, str]]) -> list[Path]:
    """Local files/directories the configuration names; a `.../simple` index brings its parent
    (its pages link to files beside it)."""
    found: list[Path] = []
    for values in sections.values():
        for key, value in values.items():
            if key not in _PATH_KEYS:
                continue
            for item in value.split():
                if "://" in item and not item.startswith("file://"):
                    continue
                path = Path(item.removeprefix("file://"))
                if path.name == "simple":
                    path = path.parent
                if path.is_absolute() and path.exists() and path not in found:
                    found.append(path)
    return found


def pip_mounts(workdir: Path) -> tuple[tuple[str, str], ...]:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    sections = parse_pip_config(listing)
    if not sections:
        return ()
    conf = workdir / "pip.conf"
    conf.write_text(pip_conf_text(sections), encoding="utf-8")
    mounts = [(str(conf), "/etc/pip.conf")]
    mounts += [(str(path), str(path)) for path in pip_local_paths(sections)]
    return tuple(mounts)


# ---- the engine and the base ------------------------------------------------------------------
def _answers(argv: Sequence[str], timeout: float = 20) -> bool:
    if not shutil.which(argv[0]):
        return False
    try:
        return subprocess.run(argv, capture_output=True, timeout=timeout, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def choose_engine(requested: str = "auto") -> str:
    if requested in ("auto", "docker") and _answers(["docker", "info"]):
        return "docker"
    if requested == "docker":
        raise ImageBuildError("--engine docker: no Docker daemon answers `docker info`")
    if _answers(["buildah", "--version"]) and shutil.which("podman"):
        return "buildah"
    raise ImageBuildError(
        "no container engine: start a Docker daemon, or install buildah + podman "
        "(.ci/provision-containers.sh does, on Debian)"
    )


def stand_in_base(real: str) -> str | None:
    """The local image labelled as standing in for `real` (ignoring its digest), if any.

    Images built on it inherit the label, so the stand-in is the candidate with fewest layers."""
    wanted = real.split("@", 1)[0]
    names = subprocess.run(
        [
            "podman",
            "images",
            "--noheading",
            "--filter",
            f"label={STAND_IN_LABEL}={wanted}",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    names = [name for name in names if not name.startswith("<none>")]
    if not names:
        return None
    inspected = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{len .RootFS.Layers}}", *names],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if len(inspected) != len(names):
        return names[0]
    return min(zip(names, map(int, inspected), strict=True), key=lambda pair: pair[1])[0]


def resolve_base(real: str) -> str:
    """`real` where it is in local storage or can be pulled, else its labelled stand-in."""
    if _answers(["podman", "image", "exists", real]) or _answers(["podman", "pull", "-q", real], 120):
        return real
    stand_in = stand_in_base(real)
    if not stand_in:
        raise ImageBuildError(
            f"cannot pull the base {real} and no stand-in is labelled {STAND_IN_LABEL}; "
            "run .ci/provision-containers.sh or pass --build-arg PYTHON_IMAGE=..."
        )
    note(f"base {real} cannot be pulled here; building on its stand-in {stand_in}")
    return stand_in


def index_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=_PROBE_TIMEOUT_S):  # noqa: S310 - an https index
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


# ---- a local checkpoint -----------------------------------------------------------------------
def checkpoint_digest(directory: Path) -> str:
    """`sha256:<16 hex>` over the checkpoint's file names and bytes: its revision label."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return f"sha256:{digest.hexdigest()[:16]}"


def context_with_checkpoint(checkpoint: Path, workdir: Path, context: Path = CONTEXT) -> Path:
    """A copy of the context with `checkpoint`'s files in model-src/ (the repository's stays)."""
    staged = workdir / "context"
    shutil.copytree(context, staged, ignore=shutil.ignore_patterns("__pycache__", MODEL_SRC))
    shutil.copytree(checkpoint, staged / MODEL_SRC, ignore=shutil.ignore_patterns(".*"))
    return staged


# ---- the build --------------------------------------------------------------------------------
def build_command(plan: BuildPlan) -> list[str]:
    args = [f"--build-arg={key}={value}" for key, value in sorted(plan.build_args.items())]
    dockerfile = str(plan.context / DOCKERFILE)
    if plan.engine == "docker":
        return ["docker", "build", "-f", dockerfile, "-t", plan.image, *args, str(plan.context)]
    volumes = [f"--volume={host}:{inside}:ro" for host, inside in plan.mounts]
    return [
        "buildah",
        "bud",
        "--isolation",
        "chroot",
        "--layers",
        "-f",
        dockerfile,
        "-t",
        plan.image,
        *args,
        *volumes,
        str(plan.context),
    ]


def stack_build_args(stack: str, overrides: Mapping[str, str]) -> dict[str, str]:
    from infra.plan import image_build_args  # noqa: PLC0415 - loads the settings machinery
    from infra.settings import settings_from_stack_files  # noqa: PLC0415

    return image_build_args(settings_from_stack_files(stack, dict(overrides)))


def parse_build_args(pairs: Iterable[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ImageBuildError(f"--build-arg {pair!r}: expected KEY=VALUE (VALUE may be empty)")
        result[key] = value
    return result


def build(
    *,
    stack: str,
    overrides: Mapping[str, str],
    model_source: str = "",
    model_revision: str = "",
    image: str = "",
    extra_args: Mapping[str, str] | None = None,
    engine: str = "auto",
) -> str:
    """Build the image; returns its reference."""
    local = bool(model_source) and Path(model_source).is_dir()
    settings_overrides = dict(overrides)
    if model_source and not local:
        settings_overrides["modelId"] = model_source
    if model_revision and not local:
        settings_overrides["modelRevision"] = model_revision
    args = stack_build_args(stack, settings_overrides)
    chosen = choose_engine(engine)
    image = image or f"qa-service:{args['RUNTIME']}-{args['PRECISION']}"
    with tempfile.TemporaryDirectory(prefix="qa-image-") as tmp:
        workdir = Path(tmp)
        context = CONTEXT
        if local:
            checkpoint = Path(model_source).resolve()
            args.update(
                MODEL_SOURCE="local",
                MODEL_ID=checkpoint.name,
                MODEL_REVISION=model_revision or checkpoint_digest(checkpoint),
            )
            context = context_with_checkpoint(checkpoint, workdir)
        mounts: tuple[tuple[str, str], ...] = ()
        if chosen == "buildah":
            mounts = pip_mounts(workdir)
            extra = dict(extra_args or {})
            if "PYTHON_IMAGE" not in extra:
                args["PYTHON_IMAGE"] = resolve_base(dockerfile_default("PYTHON_IMAGE"))
            for key in TORCH_INDEX_ARGS:
                url = extra.get(key, args.get(key) or dockerfile_default(key))
                if key not in extra and url and not index_answers(url):
                    note(f"{key} {url} does not answer; torch comes from pip's configuration")
                    args[key] = ""
        args.update(extra_args or {})
        plan = BuildPlan(chosen, image, context, args, mounts)
        result = subprocess.run(build_command(plan), stdout=sys.stderr, check=False)
        if result.returncode != 0:
            raise ImageBuildError(f"{chosen} build of {image} failed (exit {result.returncode}), see above")
    return image
