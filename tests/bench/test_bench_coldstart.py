"""`python -m bench coldstart` around the service's start-up timer: stubbed for the CLI tests,
the real one (real processes, `slow`) at the end."""

import json
import sys
import types

import pytest

from bench import coldstart
from bench.__main__ import main
from bench.startup_phases import COLUMNS


@pytest.fixture
def fake_timer(monkeypatch):
    calls = []

    def measure_timings(model_dir, runs, env=None):
        calls.append((model_dir, runs, env))
        seconds = [1.5, 1.2, 2.0, 1.4][:runs]
        # The last run's service reported no phases (an older image): left out of the phase table.
        phases = [dict.fromkeys(COLUMNS, s / len(COLUMNS)) for s in seconds[:-1]] + [None]
        return [
            types.SimpleNamespace(first_answer_s=s, phases=p) for s, p in zip(seconds, phases, strict=True)
        ]

    monkeypatch.setitem(
        sys.modules, "bench.coldstart", types.SimpleNamespace(measure_timings=measure_timings)
    )
    return calls


def test_coldstart_reports_the_distribution(capsys, tmp_path, fake_timer):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    out = tmp_path / "out"
    code = main(
        [
            "coldstart",
            "--model-dir",
            str(model),
            "--runs",
            "4",
            "--env",
            "OMP_NUM_THREADS=2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert fake_timer == [(model, 4, {"OMP_NUM_THREADS": "2"})]
    result = json.loads((out / "coldstart.json").read_text())
    # sorted: 1.2, 1.4, 1.5, 2.0 → nearest rank p50 = 2nd = 1.4, p90 = 4th = 2.0
    assert result["seconds"] == {
        "count": 4,
        "mean": 1.525,
        "min": 1.2,
        "p50": 1.4,
        "p90": 2.0,
        "p99": 2.0,
        "max": 2.0,
    }
    assert (out / "coldstart.png").read_bytes().startswith(b"\x89PNG")
    printed = capsys.readouterr().out
    assert "| 4 | 1.20 s | 1.40 s | 2.00 s | 2.00 s | 1.52 s |" in printed
    # Where the start went: medians of the three runs that reported phases (1.5, 1.2, 2.0 s).
    assert len(result["phases_s"]) == 3
    assert result["phases_median_s"]["exec"] == pytest.approx(1.5 / len(COLUMNS), abs=1e-4)
    assert "Median of 3 run(s)" in printed and "| before_exec | exec |" in printed
    # No bake manifest, no torch weights: it says it does not know the runtime, never guesses.
    assert "Measured: runtime unknown, precision unknown" in printed
    assert result["target"]["runtime"] == "unknown"


def test_coldstart_says_which_runtime_it_timed(capsys, tmp_path, fake_timer):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"")  # a checkpoint without a manifest: torch
    assert main(["coldstart", "--model-dir", str(model), "--runs", "1", "--out", str(tmp_path / "o")]) == 0
    assert "Measured: runtime torch, precision fp32" in capsys.readouterr().out


def test_coldstart_argument_errors(capsys, tmp_path, fake_timer):
    assert main(["coldstart", "--model-dir", str(tmp_path)]) == 2
    assert "no config.json" in capsys.readouterr().err
    (tmp_path / "config.json").write_text("{}")
    assert main(["coldstart", "--model-dir", str(tmp_path), "--env", "NOEQUALS"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert fake_timer == []


@pytest.mark.slow
def test_measure_start_times_a_real_process_to_its_first_answer(tiny_model_dir, tmp_path):
    seconds = coldstart.measure_start(tiny_model_dir, runs=1, env={"NUM_THREADS": "1"})
    assert len(seconds) == 1
    assert seconds[0] > 0
    timing = coldstart.time_start(tiny_model_dir, {"NUM_THREADS": "1"}, log_path=tmp_path / "log")
    context = coldstart.SEED_EXAMPLE["context"]
    assert timing.answer["answer"] == context[timing.answer["start"] : timing.answer["end"]]
    assert timing.peak_rss_mb and timing.peak_rss_mb > 10
    assert "model ready" in (tmp_path / "log").read_text()


def test_checksum_study_table_says_how_much_of_each_start_is_accounted_for():
    from bench.studies.startup_checksums import markdown

    phases = dict.fromkeys(COLUMNS, 0.1) | {"first_answer": 0.05}
    table = markdown({"onnx-int8 VERIFY_CHECKSUMS=0": {"median_s": 1.0, "phases_median_s": phases}})
    row = table.splitlines()[2]
    assert row.startswith("| onnx-int8 VERIFY_CHECKSUMS=0 | 1.000 s | 0.100 |")
    assert row.endswith("| 95% |")  # 1 − first_answer / total
