"""`python -m policy check`: one line per violation, exit 1 on a mandatory one, 2 on bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from policy_helpers import render_raw
from policy_insecure import EXPECTED_INSECURE, insecure_render

from policy.catalog import BY_NAME
from policy.cli import main

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^(mandatory|advisory) ([a-z0-9-]+) (\S+): (.+)\. Fix: (.+)$")


def write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def run(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_a_compliant_render_exits_0_with_no_violation_lines(tmp_path, capsys):
    code, out, err = run(capsys, "check", "--render", write(tmp_path, "dev.json", render_raw("dev")))
    assert (code, out) == (0, [])
    assert err == [
        f"policy: {tmp_path / 'dev.json'}: 0 mandatory, 0 advisory violation(s) in 13 resources, {len(BY_NAME)} rules"
    ]


def test_advisories_are_printed_but_do_not_fail(tmp_path, capsys):
    code, out, _ = run(capsys, "check", "--render", write(tmp_path, "prod.json", render_raw("prod")))
    assert code == 0
    assert out == [
        "advisory cloudrun-private-ingress qa-service: a private service accepts traffic from the internet "
        "(ingress INGRESS_TRAFFIC_ALL). Fix: set the `ingress` stack setting to internal or "
        "internal-and-cloud-load-balancing when every caller is inside the VPC or behind a load balancer"
    ]


def test_an_insecure_render_exits_1_with_one_line_per_problem(tmp_path, capsys):
    code, out, err = run(capsys, "check", "--render", write(tmp_path, "bad.json", insecure_render()))
    assert code == 1
    parsed = [LINE.match(line) for line in out]
    assert all(parsed), [line for line, m in zip(out, parsed, strict=True) if not m]
    assert {(m[1], m[2], m[3]) for m in parsed} == EXPECTED_INSECURE
    assert len(out) == len(EXPECTED_INSECURE)
    for m in parsed:  # every line ends with its rule's fix
        assert m[5] == " ".join(BY_NAME[m[2]].fix.split())
    levels = [m[1] for m in parsed]
    assert levels == sorted(levels, key=lambda level: level != "mandatory"), "mandatory lines first"
    advisories = sum(level == "advisory" for level, _, _ in EXPECTED_INSECURE)
    assert f"{len(EXPECTED_INSECURE) - advisories} mandatory, {advisories} advisory" in err[0]


def test_rules_prints_the_table(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert out[0] == "<!-- rules:begin -->" and out[-1] == "<!-- rules:end -->"
    assert sum(line.startswith("| `") for line in out) == len(BY_NAME)


def test_a_stack_is_rendered_and_checked_in_process(capsys):
    code, out, err = run(capsys, "check", "dev", "--set", "public=false")
    assert code == 0
    assert [line.split(":")[0] for line in out] == ["advisory cloudrun-private-ingress qa-dev-service"]
    assert err[0].startswith("policy: dev: 0 mandatory, 1 advisory")


def test_a_public_stack_without_an_allusers_grant_passes_the_access_rules(capsys):
    """publicAccess invokerIamDisabled: the IAM bypass, on a service labelled access=public."""
    code, out, err = run(capsys, "check", "dev", "--set", "publicAccess=invokerIamDisabled")
    assert (code, out) == (0, [])
    assert err[0].startswith("policy: dev: 0 mandatory, 0 advisory")


def test_a_timeout_the_settings_accept_is_advised_against_not_refused(capsys):
    """Stack settings allow Cloud Run's 3600 s; the policy's 300 s for inference is advice."""
    code, out, _ = run(capsys, "check", "dev", "--set", "timeoutSeconds=3600")
    assert code == 0
    assert [line.split(":")[0] for line in out] == [
        "advisory cloudrun-request-timeout-inference qa-dev-service"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "error: the following arguments are required: command"),
        (["lint"], "error: argument command: invalid choice: 'lint' (choose from 'check', 'rules')"),
        (["check"], "error: check takes a STACK or --render FILE.json (one of them)"),
        (
            ["check", "dev", "--render", "x.json"],
            "error: check takes a STACK or --render FILE.json (one of them)",
        ),
        (
            ["check", "--render", "x.json", "--set", "cpu=4"],
            "error: --set applies to a STACK render, not to --render",
        ),
        (["check", "dev", "--frobnicate"], "error: unrecognized arguments: --frobnicate"),
        (["check", "nope"], "error: stack 'nope': no Pulumi.nope.yaml; stacks here: "),
        (["check", "dev", "--set", "cpu=3"], 'error: cpu: "3" is not valid'),
        (["check", "dev", "--set", "cpu"], "error: --set 'cpu': expected key=value, e.g. --set cpu=4"),
        (["check", "dev", "--set", "nonsense=1"], "error: --set nonsense: unknown key"),
        (
            ["check", "dev", "--set", "concurrancy=2"],
            "error: --set concurrancy: unknown key — did you mean concurrency?",
        ),
    ],
)
def test_bad_arguments_and_invalid_settings_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out, len(err)) == (2, [], 1), err
    assert err[0].startswith(message)


def test_every_invalid_setting_gets_its_own_line(capsys):
    code, out, err = run(capsys, "check", "dev", "--set", "cpu=3", "--set", "memory=lots")
    assert (code, out) == (2, [])
    assert [line.split(":")[1].strip() for line in err] == ["cpu", "memory"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "error: cannot read {path}: No such file or directory"),
        ("{not json", "error: {path} is not JSON: "),
        (
            '{"type": "x"}',
            "error: {path} is not a render: expected a JSON list of {{type, name, parent, inputs}} objects",
        ),
        ('[{"name": "no-type"}]', "error: {path} is not a render: "),
    ],
    ids=["missing", "not-json", "not-a-list", "no-type"],
)
def test_an_unreadable_render_file_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "render.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "check", "--render", str(path))
    assert (code, out, len(err)) == (2, [], 1), err
    assert err[0].startswith(message.format(path=path))


def test_python_m_policy_runs_the_checker_without_the_policy_server(tmp_path):
    """The real entry point, as CI calls it; pulumi_policy (the gRPC server) is never imported."""
    render = write(tmp_path, "bad.json", insecure_render())
    probe = (
        "import runpy, sys\n"
        "try:\n"
        "    runpy.run_module('policy', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code, 'pulumi_policy' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "check", "--render", render],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr.splitlines()[-1] == "exit 1 False", result.stderr
    assert len(result.stdout.splitlines()) == len(EXPECTED_INSECURE)

    direct = subprocess.run(
        [sys.executable, "-m", "policy", "check", "--render", render],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (direct.returncode, direct.stdout) == (1, result.stdout)


def test_rules_piped_into_a_reader_that_stops_early_ends_quietly():
    """`python -m policy rules | head`: the reader closes the pipe before the table is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "policy", "rules"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # before the interpreter has even imported the rules
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
