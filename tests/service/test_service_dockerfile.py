"""Static checks of service/Dockerfile and service/.dockerignore (no Docker engine here).

What the image must be: multi-stage (a torch builder that bakes the model; runtime stages
selected by RUNTIME, the ONNX one without torch), digest-pinned slim base, CPU-only torch,
requirements before code, the model baked at build time in its own layer, non-root, offline,
exec-form gunicorn CMD. Plus: every role's pins agree with the repository's constraints.txt.
"""

from __future__ import annotations

import json
import re
import runpy
import subprocess
from pathlib import Path

import pytest
import yaml

SERVICE = Path(__file__).resolve().parents[2] / "service"
DOCKERFILE = SERVICE / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current)
            current = ""
    result = []
    for text in logical:
        keyword, _, rest = text.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """[(FROM arguments, instructions of that stage)]; global ARGs before the first FROM dropped."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            out.append((rest, []))
        elif out:
            out[-1][1].append((keyword, rest))
    return out


def global_args() -> dict[str, str]:
    args = {}
    for keyword, rest in instructions():
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, value = rest.partition("=")
            args[name] = value
    return args


def stage(name: str) -> list[tuple[str, str]]:
    for header, body in stages():
        if header.split()[-1] == name and " AS " in header.upper():
            return body
    raise AssertionError(f"no stage {name}")


STAGES = [
    "builder",
    "model",
    "deps-onnx",
    "deps-openvino",
    "deps-torch",
    "runtime-base",
    "code",
    "runtime-onnx",
    "runtime-openvino",
    "runtime-torch",
    "runtime",
]


def test_multi_stage_from_a_digest_pinned_slim_python():
    headers = [header for header, _ in stages()]
    names = [h.split()[-1] for h in headers]
    assert names == STAGES
    base = global_args()["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base), base
    for header in headers:
        image = header.split()[0]
        allowed = ("${PYTHON_IMAGE}", "builder", "runtime-base", "runtime-${RUNTIME}")
        assert image in allowed, f"FROM {image} is neither the pinned base nor a stage"


def test_the_final_stage_is_chosen_by_the_runtime_build_arg_and_defaults_to_the_stack_default():
    from infra.settings.derive import BY_GPU
    from infra.settings.project_file import config_schema
    from service.bake.manifest import AUTO_PRECISION, DEFAULT_PRECISION

    schema = config_schema()
    runtime, precision = BY_GPU["runtime"][1], schema["precision"]["default"]  # no gpu: derived
    assert schema["runtime"]["default"] == ""
    assert global_args()["RUNTIME"] == runtime == "openvino"
    assert precision == AUTO_PRECISION
    assert global_args()["PRECISION"] == DEFAULT_PRECISION[runtime] == AUTO_PRECISION
    final_from = [header for header, _ in stages()][-1]
    assert final_from == "runtime-${RUNTIME} AS runtime"
    for runtime in ("onnx", "openvino", "torch"):
        copies = [rest for kw, rest in stage(f"runtime-{runtime}") if kw == "COPY"]
        assert copies == [f"--from=deps-{runtime} /opt/venv /opt/venv"]
    # A pair the service cannot serve is refused by the bake step itself (from the manifest's
    # pairs), so the Dockerfile keeps no list of its own.
    model_runs = " ".join(rest for kw, rest in stage("model") if kw == "RUN")
    assert "onnx/" not in model_runs and "case " not in model_runs


def test_no_runtime_stage_gets_torch_unless_it_is_the_torch_one():
    """The builder's venv (/opt/build: torch, transformers, onnx) is copied into no runtime."""
    for name in ("runtime-base", "code", "runtime-onnx", "runtime-openvino", "runtime-torch", "runtime"):
        for kw, rest in stage(name):
            assert not (kw == "COPY" and "--from=builder" in rest), (name, rest)
            assert "/opt/build" not in rest, (name, rest)
    onnx_deps = stage("deps-onnx")
    assert not any("torch==" in rest for kw, rest in onnx_deps if kw == "RUN")
    assert [rest for kw, rest in onnx_deps if kw == "COPY"] == [
        "requirements-onnx.txt constraints.txt /tmp/reqs/"
    ]
    assert any(
        "find_spec(m) for m in ('torch', 'transformers')" in rest for kw, rest in onnx_deps if kw == "RUN"
    )
    onnx_reqs = (SERVICE / "requirements-onnx.txt").read_text(encoding="utf-8")
    assert "onnxruntime==" in onnx_reqs
    for heavy in ("torch", "transformers", "onnx=="):
        assert not re.search(rf"^{heavy}", onnx_reqs, re.M), heavy
    ov_deps = stage("deps-openvino")
    assert not any("torch==" in rest for kw, rest in ov_deps if kw == "RUN")
    assert [rest for kw, rest in ov_deps if kw == "COPY"] == [
        "requirements-openvino.txt openvino-unused.txt constraints.txt /tmp/reqs/"
    ]
    prune = next(rest for kw, rest in ov_deps if kw == "RUN" and "openvino-unused.txt" in rest)
    assert "available_devices == ['CPU']" in prune  # the pruned wheel still serves the CPU
    assert any(
        "find_spec(m) for m in ('torch', 'transformers', 'optimum', 'nncf')" in rest
        for kw, rest in ov_deps
        if kw == "RUN"
    )
    ov_reqs = (SERVICE / "requirements-openvino.txt").read_text(encoding="utf-8")
    assert "openvino==" in ov_reqs
    for heavy in ("torch", "transformers", "optimum", "nncf", "onnx"):
        assert not re.search(rf"^{heavy}", ov_reqs, re.M), heavy


def test_torch_comes_from_the_cpu_only_index_before_the_requirements():
    assert global_args()["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    assert global_args()["BUILD_TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    for name, role, arg in (
        ("builder", "requirements-build.txt", "BUILD_TORCH_INDEX"),
        ("deps-torch", "requirements-torch.txt", "TORCH_INDEX"),
    ):
        assert ("ARG", arg) in stage(name)
        runs = [rest for kw, rest in stage(name) if kw == "RUN"]
        # The index unless the arg is empty (then pip's own configuration, e.g. a local mirror).
        torch_step = next(
            i for i, r in enumerate(runs) if f'${{{arg}:+--index-url "${{{arg}}}"}}' in r and "torch==" in r
        )
        reqs_step = next(i for i, r in enumerate(runs) if f"-r /tmp/reqs/{role}" in r)
        assert torch_step < reqs_step, name
        assert "-c /tmp/reqs/constraints.txt" in runs[reqs_step]
        assert "torch.version.cuda is None" in runs[reqs_step]


def test_requirements_are_copied_before_code_and_the_model_has_its_own_layer():
    runtime = stage("runtime")
    copies = [rest for kw, rest in runtime if kw == "COPY"]
    assert copies == ["--from=model /model /model", "--from=code /app/service /app/service"]
    code = stage("code")
    assert [rest for kw, rest in code if kw == "COPY"] == [". /app/service/"]
    # A checkpoint carried in model-src/ is baked into /model, never shipped as app code.
    assert any("rm -rf /app/service/model-src" in rest for kw, rest in code if kw == "RUN")
    for name in ("builder", "deps-onnx", "deps-openvino", "deps-torch"):
        for kw, rest in stage(name):
            if kw == "COPY":
                assert all(f.endswith(".txt") for f in rest.split()[:-1]), (name, rest)  # no code
    # Only the modules baking needs (app edits keep the model layer cached), and all of them: the
    # int8 accuracy gate answers with service.qa.model, as the service will.
    copied = model_stage_modules()
    assert "service.qa.model" in copied and "service.bake.accuracy" in copied
    assert not {"service.app", "service.settings", "service.lifecycle", "service.inference"} & copied
    for module in sorted(copied):
        path = SERVICE.parent / (module.replace(".", "/") + ".py")
        if not path.is_file():
            path = path.with_suffix("") / "__init__.py"
        text = path.read_text(encoding="utf-8")
        if module == "service.bake.bootstrap":  # --verify loads the whole service: runtime stage
            start = text.index("def verify(")
            text = text[:start] + text[text.index("\ndef ", start + 1) :]
        for imported in re.findall(r"^\s*from (service[\w.]*) import", text, re.M):
            assert imported in copied, f"{module} imports {imported}, not copied to the model stage"


def model_stage_modules() -> set[str]:
    """Dotted names of the service modules the model stage's COPY lines put under /tmp/bake."""
    modules = set()
    for kw, rest in stage("model"):
        if kw != "COPY" or rest == "model-src/ /tmp/model-src/":  # the checkpoint, not code
            continue
        *sources, target = rest.split()
        assert target.startswith("/tmp/bake/service/"), rest
        for source in sources:
            paths = sorted((SERVICE / source).rglob("*.py")) if source.endswith("/") else [SERVICE / source]
            for path in paths:
                assert path.is_file(), f"COPY {source}: {path} does not exist"
                parts = ("service", *path.relative_to(SERVICE).with_suffix("").parts)
                modules.add(".".join(parts).removesuffix(".__init__"))
    return modules


def test_the_default_checkpoint_is_the_stacks_default_spelled_the_same():
    """A plain `docker build` bakes what a stack with no modelId deploys, and labels it alike."""
    config = yaml.safe_load((SERVICE.parent / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    defaults = global_args()
    assert defaults["MODEL_ID"] == config["modelId"]["default"]
    assert defaults["MODEL_REVISION"] == config["modelRevision"]["default"]
    runtime = dict(rest.partition("=")[::2] for kw, rest in stage("runtime") if kw == "ARG")
    assert runtime["MODEL_ID"] == runtime["MODEL_REVISION"] == ""  # the global default, not a copy
    assert f"--build-arg MODEL_ID={config['modelId']['default']} " in DOCKERFILE.read_text(encoding="utf-8")


def bootstrap_help() -> str:
    import contextlib
    import io

    from service.bake import bootstrap

    text = io.StringIO()
    with contextlib.redirect_stdout(text), pytest.raises(SystemExit):
        bootstrap.main(["--help"])
    return text.getvalue()


def test_model_is_baked_at_build_time_from_pinned_build_args():
    model = stage("model")
    args = dict(rest.partition("=")[::2] for kw, rest in model if kw == "ARG")
    # Declared once, globally; the stages that use them take the global default.
    assert args["MODEL_ID"] == args["MODEL_REVISION"] == ""
    assert re.fullmatch(r"[0-9a-f]{40}", global_args()["MODEL_REVISION"]), "pin a full commit sha"
    run = " ".join(rest for kw, rest in model if kw == "RUN")
    assert args["MODEL_SOURCE"] == "hub"
    assert 'if [ "${MODEL_SOURCE}" = local ]; then source=/tmp/model-src;' in run
    assert 'elif [ "${MODEL_SOURCE}" = hub ]; then source="${MODEL_ID}";' in run
    assert '--source "${source}" --revision "${MODEL_REVISION}"' in run
    assert '--model-id "${MODEL_ID}"' in run
    assert "chmod -R u=rwX,go=rX /model" in run  # the app user (not root) must read every file
    assert '--runtime "${RUNTIME}" --precision "${PRECISION}"' in run
    assert "--out /model" in run
    # int8's accuracy gate: each arg passed only when set, so empty means the bake's own default
    # (and an fp32 build's model layer does not depend on the margin).
    for arg, flag in (
        ("INT8_ACCURACY_MARGIN", "--accuracy-margin"),
        ("ACCURACY_DATA", "--accuracy-data"),
        ("ACCURACY_SAMPLE", "--accuracy-sample"),
    ):
        assert args[arg] == "", arg
        assert f'${{{arg}:+{flag} "${{{arg}}}"}}' in run, arg
        assert f" {flag} " in bootstrap_help(), flag  # the bake CLI takes it
    runtime = stage("runtime")
    assert any("service.bake --verify /model" in rest for kw, rest in runtime if kw == "RUN")


def test_runtime_is_offline_non_root_and_starts_gunicorn_in_exec_form():
    runtime = stage("runtime")
    env = " ".join(rest for kw, rest in stage("runtime-base") if kw == "ENV")
    for setting in ("HF_HUB_OFFLINE=1", "MODEL_DIR=/model", "PORT=8080"):
        assert setting in env
    users = [rest for kw, rest in runtime if kw == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    cmds = [rest for kw, rest in runtime if kw == "CMD"]
    assert len(cmds) == 1
    argv = json.loads(cmds[0])  # exec form is a JSON array; shell form would not parse
    assert argv[0] == "gunicorn"
    assert argv[argv.index("--config") + 1] == "/app/service/gunicorn.conf.py"
    assert not any(kw == "ENTRYPOINT" for kw, _ in runtime)


def test_build_args_infra_passes_are_declared():
    declared = {rest.partition("=")[0] for kw, rest in instructions() if kw == "ARG"}
    assert {"MODEL_ID", "MODEL_REVISION", "RUNTIME", "PRECISION"} <= declared


def test_gunicorn_config_matches_the_contract(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("MODEL_DIR", str(tiny_model_dir))
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("CONCURRENCY", "2")
    monkeypatch.setenv("MAX_QUEUE", "3")
    conf = runpy.run_path(str(SERVICE / "gunicorn.conf.py"))
    assert conf["bind"] == ["0.0.0.0:9123"]
    assert conf["workers"] == 1
    # gthread, with requests read whole before they take a thread (service/buffered_worker.py)
    assert conf["worker_class"] == "service.buffered_worker.BufferedThreadWorker"
    from gunicorn.util import load_class  # as gunicorn resolves it

    from service.buffered_worker import BufferedThreadWorker

    assert load_class(conf["worker_class"]) is BufferedThreadWorker
    assert conf["threads"] == 2 + 3 + 2
    assert conf["graceful_timeout"] < 10
    assert conf["wsgi_app"] == "service.app:create_app()"
    assert conf["control_socket_disable"] is True


@pytest.mark.slow
def test_every_run_step_is_valid_shell():
    steps = [rest for kw, rest in instructions() if kw == "RUN"]
    assert len(steps) >= 5
    for rest in steps:  # RUN's shell form runs under /bin/sh -c
        result = subprocess.run(["sh", "-n", "-c", rest], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"RUN {rest[:60]}…: {result.stderr.strip()}"


@pytest.mark.slow
def test_the_shell_check_catches_a_broken_step():
    result = subprocess.run(["sh", "-n", "-c", 'pip install "torch'], capture_output=True, check=False)
    assert result.returncode != 0
