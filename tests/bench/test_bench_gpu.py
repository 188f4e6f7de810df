"""`python -m bench gpu`: fails fast without CUDA; targets and table from a report.

The whole script runs end to end on the CPU in test_the_gpu_check_runs_end_to_end_on_cpu
(`--device cpu --quick`: tiny model, fp16 CPU kernels standing in for the GPU's).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import gpu_measure, gpu_report
from bench.__main__ import main
from bench.local_service import ROOT


def test_without_cuda_it_stops_at_once_with_one_line(capsys, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the no-CUDA message cannot be shown")
    assert main(["gpu", "--out", str(tmp_path), "--work", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("python -m bench gpu: error: no CUDA device: torch ")
    assert "--device cpu" in err
    assert list(tmp_path.iterdir()) == []  # nothing generated before the check


def _report(off_vs_raw=1.1, thr1=100.0, thr16=450.0, p99_16=30.0, share=0.97):
    latency = {
        name: {
            "tokens": t,
            "windows": w,
            "off_vs_raw_p50": off_vs_raw,
            **{f"{s}_ms": {"p50": 5.0, "p99": 12.0, "n": 10} for s in ("raw", "off", "on")},
        }
        for name, t, w in (("small", 25, 1), ("medium", 380, 1), ("large", 2800, 11))
    }
    throughput = {
        f"{mode}_c{c}": {
            "requests_per_s": thr1 * (c if mode == "off" else 1),
            "p50": 4.0,
            "p99": 20.0,
            "n": 50,
            "mean_batch_size": 1.0,
        }
        for mode in ("on", "off")
        for c in gpu_measure.CONCURRENCY
    }
    throughput["on_c16"] |= {"requests_per_s": thr16, "p99": p99_16, "mean_batch_size": 9.5}
    report = {
        "command": "python -m bench gpu",
        "device": "NVIDIA L4",
        "torch": "2.13.0",
        "start_to_first_answer_s": [9.1],
        "memory_mb": {"off": 1200.0},
        "latency": latency,
        "throughput": throughput,
        "fp16_agreement": {"cases": 78, "agree": round(share * 78), "share": share, "mismatches": []},
    }
    report["targets"] = gpu_report.check_targets(report)
    return report


def test_targets_are_checked_against_the_issue_limits():
    met = _report()["targets"]
    assert all(t["met"] for t in met.values()), met
    missed = _report(off_vs_raw=1.4, thr16=350.0, p99_16=40.0, share=0.9)["targets"]
    assert [t["met"] for t in missed.values()] == [False, False, False, False]
    assert missed["batching on: throughput c16 / c1"]["measured"] == 3.5
    assert missed["batching on: p99 c16 / batch-1 p99 at ~380 tokens"]["measured"] == round(40 / 12, 2)


def test_the_table_names_the_device_and_every_measurement():
    table = gpu_report.render_markdown(_report(share=0.9))
    assert "on NVIDIA L4" in table
    assert "| medium | 380 (1) | 5.00 / 12.00 ms" in table
    assert "| 16 | 1600.0, 20.0 ms | 450.0, 30.0 ms, 9.5 |" in table
    assert "| fp16 spans agreeing with fp32 | 0.9 | >= 0.95 | **no** |" in table


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_on_cpu(tmp_path):
    out = tmp_path / "gpu"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "gpu",
            "--device",
            "cpu",
            "--quick",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
        ],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "gpu.json").read_text())
    assert set(report["latency"]) == {"small", "medium", "large"}
    assert report["latency"]["large"]["windows"] > 1
    assert set(report["throughput"]) == {f"{m}_c{c}" for m in ("on", "off") for c in gpu_measure.CONCURRENCY}
    assert report["throughput"]["off_c16"]["mean_batch_size"] == 1  # no batches with it off
    assert report["fp16_agreement"]["cases"] >= 60
    assert report["start_to_first_answer_s"][0] > 0
    assert (out / "gpu.md").read_text().strip() in done.stdout
    # What comes back from a device run: the report, the table and the logs, no models.
    assert sorted(p.name for p in out.iterdir()) == [
        "gpu.json",
        "gpu.md",
        "server-off.log",
        "server-on.log",
        "start-0.log",
    ]
