"""The service's benchmark helpers: the start-up timer other tools build on, payload sizing."""

from __future__ import annotations

import pytest

from bench import coldstart, serving
from service.tokenization import QATokenizer


def test_measure_start_times_a_real_process_to_its_first_answer(tiny_model_dir, tmp_path):
    seconds = coldstart.measure_start(tiny_model_dir, runs=1, env={"NUM_THREADS": "1"})
    assert len(seconds) == 1
    assert seconds[0] > 0
    timing = coldstart.time_start(tiny_model_dir, {"NUM_THREADS": "1"}, log_path=tmp_path / "log")
    context = coldstart.SEED_EXAMPLE["context"]
    assert timing.answer["answer"] == context[timing.answer["start"] : timing.answer["end"]]
    assert timing.peak_rss_mb and timing.peak_rss_mb > 10
    assert "model ready" in (tmp_path / "log").read_text()


def test_payloads_land_on_the_token_targets(tiny_model_dir):
    tokenizer = QATokenizer(tiny_model_dir)
    small, medium, large = serving.build_payloads(tokenizer)
    assert (small.windows, medium.windows) == (1, 1)
    assert 20 <= small.window_tokens <= 30  # whole words: a long word can overshoot
    assert 370 <= medium.window_tokens <= 384
    assert 2800 <= large.tokens <= 2810
    assert large.windows >= 10


@pytest.mark.parametrize(("pct", "expected"), [(50, 5), (99, 10), (100, 10), (1, 1)])
def test_nearest_rank_percentile(pct, expected):
    assert serving.percentile(list(range(10, 0, -1)), pct) == expected


def test_report_marks_unmet_targets():
    result = {
        "command": "python -m bench.serving",
        "threads": 2,
        "max_batch_windows": 4,
        "cpu": {"Model name": "X", "cpus_available": "2"},
        "payloads": {},
        "starts": [],
        "peak_rss_mb": {"worker_mb": 800.0},
        "targets": {
            "peak_rss_worker_mb": {"measured": 800.0, "target": 700.0, "met": False},
            "overhead_25_ms": {"measured": 3.0, "target": 5.0, "met": True},
        },
    }
    text = serving.render_markdown(result)
    assert "| peak_rss_worker_mb | 800.0 | 700.0 | **no** |" in text
    assert "| overhead_25_ms | 3.0 | 5.0 | yes |" in text
