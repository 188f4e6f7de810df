"""service/lifecycle.py: the start-up order of a worker - settings, prefetch, load, warm-up, drain."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from service import lifecycle
from service.app import create_app
from service.settings import Settings


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / model_dir.name
    shutil.copytree(model_dir, out)
    return out


@pytest.mark.slow
def test_an_onnx_model_starts_loading_at_fork_and_the_app_takes_it(baked_model_factory, tiny_model_dir):
    onnx_settings = Settings.from_env(
        {"MODEL_DIR": str(baked_model_factory("onnx", "int8")), "NUM_THREADS": "1"}
    )
    assert lifecycle.take_prefetched(onnx_settings) is None  # nothing started
    assert (
        lifecycle.prefetch(Settings.from_env({"MODEL_DIR": str(tiny_model_dir)})) is False
    )  # torch: not here
    assert lifecycle.prefetch(onnx_settings) is True
    app = create_app(onnx_settings)  # picks the prefetched model up (post_fork -> create_app)
    assert lifecycle.take_prefetched(onnx_settings) is None  # taken
    assert app.extensions["qa"].state.loaded.wait(60)
    ready = app.test_client().get("/ready").get_json()
    assert (ready["status"], ready["backend"], ready["precision"]) == ("ready", "onnx", "int8")


@pytest.mark.slow
def test_a_prefetch_failure_reaches_the_loader(baked_model_factory, tmp_path):

    model_dir = _copy(baked_model_factory("onnx", "fp32"), tmp_path)
    settings = Settings.from_env({"MODEL_DIR": str(model_dir), "NUM_THREADS": "1"})
    (model_dir / "model.onnx").write_bytes(b"not a graph")  # after the start-up check
    assert lifecycle.prefetch(settings) is True
    loader = lifecycle.take_prefetched(settings)
    with pytest.raises(Exception, match=r"(?i)protobuf|invalid|load"):
        loader()


@pytest.mark.slow
def test_both_load_paths_use_the_same_options(tiny_model_dir, baked_model_factory, monkeypatch):
    """Prefetched (ONNX, at fork) or loaded by the app: QAModel.load sees the same options."""
    from service.qa.model import QAModel

    calls = []
    monkeypatch.setattr(QAModel, "load", classmethod(lambda cls, path, **kw: calls.append((path, kw)) or kw))
    env = {
        "NUM_THREADS": "3",
        "MAX_QUESTION_TOKENS": "20",
        "MAX_BATCH_WINDOWS": "5",
        "MAX_WINDOWS": "9",
        "INTRA_OP_SPINNING": "0",
    }
    onnx = Settings.from_env({"MODEL_DIR": str(baked_model_factory("onnx", "fp32")), **env})
    torch = Settings.from_env({"MODEL_DIR": str(tiny_model_dir), **env})
    assert lifecycle.prefetch(onnx) is True
    prefetched = lifecycle.model_loader(onnx)()
    direct = lifecycle.model_loader(torch)()
    assert (
        prefetched
        == direct
        == {
            "num_threads": 3,
            "max_question_tokens": 20,
            "max_batch_windows": 5,
            "max_windows": 9,
            "device": "auto",
            "allow_spinning": False,
            "cache_dir": None,
        }
    )
    assert [path for path, _ in calls] == [onnx.model_dir, torch.model_dir]


def test_a_bad_setting_stops_the_master_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("MODEL_DIR", "/nonexistent/model")
    with pytest.raises(SystemExit) as exc:
        lifecycle.start_master()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MODEL_DIR='/nonexistent/model' is not valid" in err


def test_sigterm_drains_then_calls_gunicorns_handler(monkeypatch):
    state = lifecycle.ServiceState("m", "r")
    state.phase = lifecycle.READY
    chained = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: chained.append(state.phase))
    try:
        lifecycle.attach_worker(state, boot_error_code=3)
        # The installed handler, called as the interpreter would: a real raise_signal here can take
        # the whole test process down once native runtimes (OpenVINO's thread pools) are loaded.
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert chained == [lifecycle.DRAINING]  # not ready any more before gunicorn stops accepting


def test_a_failed_load_exits_the_worker_with_the_boot_error_code(monkeypatch):
    exits = []
    monkeypatch.setattr(lifecycle.os, "_exit", exits.append)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        state = lifecycle.ServiceState("m", "r")
        lifecycle.attach_worker(state, boot_error_code=3)
        assert exits == []
        state.fail(RuntimeError("no weights"))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exits == [3]
    assert (state.phase, state.load_error) == (lifecycle.FAILED, "RuntimeError: no weights")


def _service_imports(path: Path, package: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("service"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("service"))
    modules = {".".join(p.relative_to(package.parent).with_suffix("").parts) for p in package.rglob("*.py")}
    modules = {m.removesuffix(".__init__") for m in modules}
    return {name for name in names if name in modules}


def test_service_modules_import_each_other_without_a_cycle():
    """Deferred imports count too: a cycle hidden in a function still ties start-up in a knot."""
    package = Path(__file__).resolve().parents[2] / "service"
    graph = {}
    for path in package.rglob("*.py"):
        if path.name == "gunicorn.conf.py":
            continue
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = _service_imports(path, package) - {name}
    assert "service.app" in graph and "service.lifecycle" in graph["service.app"]

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " -> ".join((*trail, node))
        for nxt in sorted(graph.get(node, ())):
            if not nxt.startswith(node + "."):  # a package importing its own submodule is fine
                visit(nxt, (*trail, node))

    for module in sorted(graph):
        visit(module, ())
