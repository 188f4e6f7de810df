"""`python -m bench …`: argument errors are one clear line; a run writes its files."""

import json
import subprocess
import sys

import pytest

from bench import records as rec
from bench.__main__ import main


def run_cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


ERROR_CASES = [
    (["load", "http://x", "--duration", "1"], "one of the arguments --rps --concurrency"),
    (["load", "http://x", "--rps", "1", "--concurrency", "2", "--duration", "1"], "not allowed with"),
    (["load", "http://x", "--rps", "-1", "--duration", "1"], "must be > 0: '-1'"),
    (["load", "http://x", "--rps", "nan", "--duration", "1"], "must be > 0: 'nan'"),
    (["load", "http://x", "--rps", "1", "--duration", "soon"], "not a duration: 'soon'"),
    (["load", "http://x", "--rps", "1"], "required: --duration"),
    (["load", "ftp://x", "--rps", "1", "--duration", "1"], "not an http(s) URL"),
    (
        ["load", "http://x", "--rps", "1", "--duration", "1", "--payload", "/nope.json"],
        "cannot read payload file",
    ),
    (["load", "http://x", "--concurrency", "5000", "--duration", "1"], "above 1000"),
    (["load", "http://x", "--rps", "1", "--duration", "1", "--header", "Host"], "expected 'Name: value'"),
    (["cost", "nope", "--rps", "1"], "no Pulumi.nope.yaml"),
    (["cost", "dev", "--rps", "1", "--set", "cpu=3"], 'cpu: "3" is not valid'),
    (["cost", "dev", "--rps", "1", "--set", "bogus"], "expected key=value"),
    (["cost", "dev"], "required: --rps"),
    (["report", "/nonexistent-dir"], "requests.csv not found"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "fragment"), ERROR_CASES)
def test_argument_errors_are_one_line(capsys, monkeypatch, argv, fragment):
    from qaclient import auth

    # Bad arguments fail before anything slow or external: no identity token is fetched.
    monkeypatch.setattr(auth, "resolve_token", lambda *a, **k: pytest.fail("token fetched before validation"))
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err
    assert err.startswith("python -m bench")


@pytest.mark.slow
def test_load_writes_csv_report_and_plots_then_report_rebuilds_them(capsys, tmp_path, stub_server):
    stub = stub_server(instances=2, cold_delay_ms=300, default_delay_ms=5)
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        capsys,
        "load",
        stub.url,
        "--concurrency",
        "1",
        "--duration",
        "30",
        "--max-requests",
        "8",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0, err
    assert (
        "## Load test:" in stdout
        and "Cold starts (first request of a new instance, waiting for its start-up): 2" in stdout
    )
    rows = rec.read_csv(out / "requests.csv")
    assert len(rows) == 8
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["concurrency"] == 1 and report["run"]["max_requests"] == 8
    assert report["status_counts"] == {"200": 8}
    # Two instances taking turns: each one's first request is a cold start, 300 ms held.
    events = report["cold_starts"]["events"]
    assert sorted(e["instance_id"] for e in events) == ["stub0", "stub1"]
    assert all(e["latency_ms"] >= 300 and e["overhead_ms"] >= 290 for e in events)
    assert report["cold_starts"]["startup_delayed"]["of_which_cold_starts"] == 2
    for name in ("latency_timeline.png", "latency_distribution.png"):
        assert (out / name).stat().st_size > 20_000

    # Re-analyse with a stricter window: same records, same counts, new rule echoed.
    code, stdout, _ = run_cli(capsys, "report", str(out), "--cold-window", "1", "--no-plots")
    again = json.loads((out / "report.json").read_text())
    assert code == 0
    assert again["latency_ms"] == report["latency_ms"]
    assert again["cold_starts"]["startup_delayed"]["window"] == 1
    assert again["run"] == report["run"]


def test_extra_headers_and_token_are_sent(capsys, tmp_path, stub_server):
    stub = stub_server()
    code, _, err = run_cli(
        capsys,
        "load",
        stub.url,
        "--concurrency",
        "1",
        "--duration",
        "10",
        "--max-requests",
        "1",
        "--header",
        "Host: qa.default.example.com",
        "--token",
        "abc",
        "--out",
        str(tmp_path),
        "--quiet",
        "--no-plots",
    )
    assert code == 0, err
    assert "identity token from --token" in err
    assert stub.received[0]["_auth"] == "Bearer abc"
    assert stub.received[0]["_host"] == "qa.default.example.com"


def test_nothing_answered_exits_1_with_a_hint(capsys, tmp_path, unused_port):
    code, _, err = run_cli(
        capsys,
        "load",
        f"http://127.0.0.1:{unused_port}",
        "--rps",
        "5",
        "--duration",
        "0.3",
        "--out",
        str(tmp_path),
        "--quiet",
        "--no-plots",
    )
    assert code == 1
    assert "no request got an HTTP answer" in err


def test_cost_cli_markdown_and_json(capsys):
    code, out, _ = run_cli(capsys, "cost", "dev", "--rps", "1")
    assert code == 0
    assert out.startswith("## Monthly cost estimate: stack dev")
    code, out, _ = run_cli(
        capsys,
        "cost",
        "dev",
        "--rps",
        "1",
        "--latency-ms",
        "250",
        "--set",
        "minInstances=1",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["latency_ms"] == 250 and data["inputs"]["min_instances"] == 1
    assert data["prices"]["source"] == "https://cloud.google.com/run/pricing"


def test_cost_takes_latency_from_a_report(capsys, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"server_total_ms": {"mean": 42.0}, "latency_ms": {"mean": 60}}))
    code, out, _ = run_cli(
        capsys, "cost", "dev", "--rps", "2", "--from-report", str(report), "--format", "json"
    )
    assert code == 0 and json.loads(out)["latency_ms"] == 42.0


@pytest.mark.slow
def test_module_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0
    for command in ("load", "report", "cost"):
        assert command in done.stdout


@pytest.mark.slow
def test_demo_against_a_running_url(capsys, tmp_path, stub_server):
    stub = stub_server(default_delay_ms=5)
    code, out, err = run_cli(
        capsys,
        "demo",
        "--url",
        stub.url,
        "--rps",
        "20",
        "--duration",
        "0.5",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert code == 0, err
    assert "open loop, 20 req/s" in out
    assert len(rec.read_csv(tmp_path / "requests.csv")) == 10
    assert (tmp_path / "latency_timeline.png").is_file()


def test_demo_url_errors_are_one_line(capsys):
    code, _, err = run_cli(capsys, "demo", "--url", "ftp://x")
    assert code == 2 and err.count("\n") == 1 and "not an http(s) URL" in err


def test_demo_scale_out_must_fall_inside_the_run(capsys):
    code, _, err = run_cli(capsys, "demo", "--duration", "5", "--scale-out-at", "5")
    assert code == 2 and "must be within --duration" in err
