"""Start-up phases: where an instance's start went, in /ready, the start-up log line and
qa_startup_phase_seconds; and the image's choice to skip re-hashing a directory its build checked."""

from __future__ import annotations

import logging
import shutil
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.coldstart import time_start
from bench.startup_phases import AFTER, BEFORE, COLUMNS, split
from service import metric_names, routes, startup
from service.app import create_app
from service.settings import Settings, SettingsError
from service.startup import PHASES, StartupClock

SEED = {"context": "Roses are red, violets are blue, sugar is sweet, and so are you.", "question": "What?"}
ROUNDING = 5e-4  # /ready rounds each phase to 0.1 ms; five of them, plus the total's own rounding


def test_phases_are_the_stretches_between_milestones():
    clock = StartupClock(started=time.monotonic())
    time.sleep(0.002)
    clock.mark(startup.EXEC)
    clock.mark(startup.VERIFY)
    clock.mark(startup.IMPORTS)
    phases = clock.phases()
    assert list(phases) == list(PHASES)
    assert phases[startup.EXEC] >= 0.002
    assert phases[startup.LOAD] == 0.0 and phases[startup.WARMUP] == 0.0
    # Milestones tile the start: the phases add up to process start → last milestone.
    assert sum(phases.values()) == pytest.approx(clock.total())
    assert clock.total() >= phases[startup.EXEC]


def test_a_copy_goes_on_alone_and_a_repeated_phase_adds_up():
    clock = StartupClock(started=time.monotonic())
    clock.mark(startup.EXEC)
    worker = clock.copy()
    time.sleep(0.002)
    worker.mark(startup.IMPORTS)
    worker.mark(startup.EXEC)
    assert clock.phases()[startup.IMPORTS] == 0.0
    assert worker.phases()[startup.IMPORTS] >= 0.002
    assert worker.phases()[startup.EXEC] >= clock.phases()[startup.EXEC]
    with pytest.raises(ValueError, match="unknown start-up phase 'compile'"):
        clock.mark("compile")


def test_the_process_start_comes_from_the_kernel():
    started = startup.process_start_monotonic()
    assert started is not None  # Linux: /proc/self/stat
    assert started <= time.monotonic()
    wall = StartupClock(started).wall_started()
    assert wall is not None and wall <= time.time()


def test_ready_log_line_and_gauge_show_the_same_phases(settings, qa_model, caplog):
    with caplog.at_level(logging.INFO, logger="service.lifecycle"):
        client = create_app(settings, model=qa_model).test_client()
    ready = client.get("/ready").get_json()
    assert set(ready["startup_phases_s"]) == set(PHASES)
    assert sum(ready["startup_phases_s"].values()) == pytest.approx(ready["startup_s"], abs=ROUNDING)
    assert ready["startup_phases_s"][startup.WARMUP] > 0  # the warm-up inference ran
    assert ready["process_started_unix"] <= time.time()

    (line,) = [r for r in caplog.records if r.getMessage() == "model ready"]
    assert line.startup_phases_s == ready["startup_phases_s"] and line.startup_s == ready["startup_s"]

    text = client.get(routes.METRICS).get_data(as_text=True)
    gauge = {
        s.labels["phase"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == metric_names.STARTUP_PHASE_SECONDS
    }
    assert set(gauge) == set(PHASES)
    for phase, seconds in ready["startup_phases_s"].items():
        assert gauge[phase] == pytest.approx(seconds, abs=1e-4)


def test_checksums_are_skipped_only_when_asked(baked_model_factory, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(baked_model_factory("torch", "fp32"), model_dir)
    config = model_dir / "config.json"
    config.write_text(config.read_text() + "\n")  # still valid JSON; another checksum
    env = {"MODEL_DIR": str(model_dir)}
    with pytest.raises(SettingsError, match=r"config\.json has checksum"):
        Settings.from_env(env)
    # The hashing is work the start pays; it is recorded beside the phases (/ready startup_work_s).
    assert startup.work()["checksums"] > 0
    assert Settings.from_env({**env, "VERIFY_CHECKSUMS": "0"}).runtime == "torch"
    # Off checks what is cheap: a listed file that is missing still stops the start.
    (model_dir / "tokenizer.json").unlink()
    with pytest.raises(SettingsError, match=r"tokenizer\.json missing"):
        Settings.from_env({**env, "VERIFY_CHECKSUMS": "0"})


def test_split_places_the_phases_on_the_benchs_clock():
    ready = {"startup_phases_s": dict.fromkeys(PHASES, 0.1), "process_started_unix": 1000.05}
    columns = split(1.0, 1000.0, ready)
    assert list(columns) == list(COLUMNS)
    assert columns[BEFORE] == pytest.approx(0.05)
    assert columns[AFTER] == pytest.approx(1.0 - 0.05 - 0.5)
    assert sum(columns.values()) == pytest.approx(1.0)
    assert split(1.0, 1000.0, {"status": "ready"}) is None  # an image without phases


@pytest.mark.slow
def test_a_real_start_is_accounted_for_phase_by_phase(tiny_model_dir):
    timing = time_start(tiny_model_dir, {"NUM_THREADS": "1"})
    phases = timing.phases
    assert phases is not None
    assert sum(phases.values()) == pytest.approx(timing.first_answer_s, abs=1e-3)
    # The service's own phases fit inside what the bench measured from outside (the process
    # start is known to 10 ms), and each of exec and imports took time.
    assert phases[BEFORE] >= 0 and phases[AFTER] >= -0.011
    assert phases[startup.EXEC] > 0 and phases[startup.IMPORTS] > 0
