"""bench/studies/: payload sizing, target checks and reports of the serving and runtime studies."""

from __future__ import annotations

import argparse

import pytest

from bench.studies import common, runtimes, runtimes_report, serving
from service.qa.tokenization import QATokenizer


def test_payloads_land_on_the_token_targets(tiny_model_dir):
    tokenizer = QATokenizer(tiny_model_dir)
    small, medium, large = common.build_payloads(tokenizer)
    assert (small.windows, medium.windows) == (1, 1)
    assert 20 <= small.window_tokens <= 30  # whole words: a long word can overshoot
    assert 370 <= medium.window_tokens <= 384
    assert 2800 <= large.tokens <= 2810
    assert large.windows >= 10


def test_report_marks_unmet_targets():
    result = {
        "command": "python -m bench.studies.serving",
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


def _config_result(p50s: dict[str, float], start_s: float, rss_mb: float, overhead_small: float) -> dict:
    payload = {
        name: {
            "tokens": 1,
            "windows": 1,
            "http_ms": {"p50": p50, "p99": p50, "n": 3},
            "raw_batched_ms": {"p50": p50},
            "overhead_ms": overhead_small if name == "small" else 0.0,
            "server_ms": {},
        }
        for name, p50 in p50s.items()
    }
    return {
        "payloads": payload,
        "starts": [{"first_answer_s": start_s}],
        "start_s_median": start_s,
        "peak_rss_mb": {"worker_mb": rss_mb},
        "model_file_mb": 1.0,
        "max_batch_windows": 4,
    }


def test_runtime_comparison_checks_each_target_against_torch():

    assert [c.label for c in runtimes.configs_for("runtimes")] == ["torch fp32", "onnx fp32", "onnx int8"]
    assert {c.env["INTRA_OP_SPINNING"] for c in runtimes.configs_for("spinning")} == {"0", "1"}
    results = {
        "torch fp32": _config_result({"small": 60, "medium": 400, "large": 4000}, 10.0, 650, 5),
        "onnx fp32": _config_result({"small": 30, "medium": 300, "large": 4100}, 1.5, 500, 5),
        "onnx int8": _config_result({"small": 15, "medium": 190, "large": 2200}, 0.9, 300, 4.5),
    }
    sizes = {"onnx": {"without_pip_mb": 150}, "torch": {"without_pip_mb": 1000}}
    targets = runtimes_report.check_targets(results, sizes)
    assert targets["int8_p50_medium_vs_torch"] == {
        "measured": 0.475,
        "target": 0.5,
        "met": True,
        "detail": "190.0 / 400.0 ms",
    }
    assert targets["int8_p50_large_vs_torch"]["met"] is False  # 0.55
    assert targets["onnx_fp32_p50_large_vs_torch"]["met"] is False  # slower than torch
    assert targets["int8_start_vs_torch"]["measured"] == 0.09
    assert targets["int8_peak_rss_vs_torch"]["met"] is True
    assert targets["site_packages_onnx_vs_torch"]["measured"] == 0.15
    text = runtimes_report.render_markdown(
        {
            "command": "x",
            "threads": 2,
            "cpu": {},
            "configs": results,
            "site_packages": None,
            "targets": targets,
        }
    )
    assert "| int8_p50_large_vs_torch | 0.55 | 0.5 | **no** |" in text


def test_lean_client_keeps_the_connection_and_reads_server_timing():
    import http.server
    import json
    import threading

    connections = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            connections.append(self.client_address)

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            data = json.dumps({"echo": json.loads(body)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Server-Timing", "inference;dur=1.500, total;dur=2.250")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = common.Client(server.server_address[1])
        for i in range(3):
            elapsed, timing, answer = client.predict(json.dumps({"n": i}).encode())
            assert answer == {"echo": {"n": i}}
            assert timing == {"inference": 1.5, "total": 2.25}
            assert elapsed > 0
        assert len(connections) == 1  # kept alive
        client.close()
    finally:
        server.shutdown()


def test_metrics_overhead_study_reports_both_costs(capsys):
    import json

    from bench.studies import metrics_overhead

    assert metrics_overhead.main(["--number", "50", "--repeat", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["observe_us"] > 0 and result["scrape_ms"] > 0
    assert result["scrape_bytes"] > 1000  # every family, with the recorded routes


def test_samples_are_one_count_per_payload_size():
    assert common.samples_per_payload("100,30,10") == [100, 30, 10]
    for bad in ("100,30", "1,2,3,4", "a,b,c", "0,1,1", ""):
        with pytest.raises(argparse.ArgumentTypeError, match=r"expected 3 counts above 0, e\.g\. 100,30,10"):
            common.samples_per_payload(bad)
