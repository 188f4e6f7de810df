"""The CrossGuard side: metadata under pulumi_policy, the entry point's dispatch, and the pack
served exactly as `pulumi preview --policy-pack policy` starts it, answering over gRPC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from policy_helpers import CLOUD_RUN, CLOUD_RUN_IAM_MEMBER, PRIVATE_SERVICE, SERVICE, variant
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policy.__main__ import launched_by_pulumi
from policy.catalog import RULES
from policy.pack import PACK_NAME, policies
from policy.rule import Level, StackRule

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy"


def test_every_rule_becomes_a_policy_with_its_name_level_and_description():
    built = policies()
    assert [p.name for p in built] == [r.name for r in RULES]
    for rule, policy in zip(RULES, built, strict=True):
        expected_type = StackValidationPolicy if isinstance(rule, StackRule) else ResourceValidationPolicy
        assert isinstance(policy, expected_type)
        assert (
            policy.enforcement_level
            is {
                Level.MANDATORY: EnforcementLevel.MANDATORY,
                Level.ADVISORY: EnforcementLevel.ADVISORY,
            }[rule.level]
        )
        assert policy.description == rule.description
        assert policy.remediation_steps == rule.fix


def test_the_pack_metadata_loads_as_the_engine_reads_it():
    """GetAnalyzerInfo, served from the same servicer PolicyPack uses — without starting it."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", policies(), EnforcementLevel.ADVISORY)
    info = servicer.GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME
    by_name = {p.name: p for p in info.policies}
    assert list(by_name) == [r.name for r in RULES]
    for rule in RULES:
        policy = by_name[rule.name]
        assert policy.description == rule.description
        assert policy.enforcementLevel == (
            analyzer_pb2.MANDATORY if rule.level is Level.MANDATORY else analyzer_pb2.ADVISORY
        )
        assert policy.policy_type == (
            analyzer_pb2.POLICY_TYPE_STACK
            if isinstance(rule, StackRule)
            else analyzer_pb2.POLICY_TYPE_RESOURCE
        )


@pytest.mark.parametrize(
    ("package", "argv", "serves"),
    [
        # `pulumi.policy`'s main: runpy.run_path(PACK_DIR) with sys.argv = [PACK_DIR, ENGINE, PACK_DIR]
        ("", ["/repo/policy", "127.0.0.1:41235", "/repo/policy"], True),
        (None, ["policy", "127.0.0.1:41235", "."], True),
        ("policy", ["/repo/policy/__main__.py", "check", "dev"], False),  # python -m policy check dev
        ("policy", ["/repo/policy/__main__.py"], False),
        ("", ["policy", "check", "dev"], False),  # python policy check dev
    ],
)
def test_only_the_pulumi_cli_path_serves_the_pack(package, argv, serves):
    assert launched_by_pulumi(package, argv) is serves


def test_pulumi_policy_yaml_runs_python_in_the_projects_virtualenv():
    import yaml

    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    # normpath, not resolve(): .venv may be a symlink in some checkouts
    assert Path(os.path.normpath(PACK_DIR / spec["runtime"]["options"]["virtualenv"])) == ROOT / ".venv"


# --- the pack, served as the Pulumi CLI starts it -----------------------------------------


def struct(value: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(value)))
    return message


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::serverless-qa::{resource_type}::{name}"


def start_pack(program: str):
    """`python -u -m pulumi.policy ENGINE_ADDRESS PROGRAM`, run in the pack directory as the
    CLI's analyzer plugin does; it prints the port of its gRPC server on stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", program],
        cwd=PACK_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    port: list[str] = []
    reader = threading.Thread(target=lambda: port.append(process.stdout.readline().strip()), daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not port or not port[0].isdigit():
        process.kill()
        pytest.fail(f"the pack did not start: {port} {process.stderr.read()[-2000:]}")
    return process, port[0]


@pytest.fixture(scope="module")
def analyzer():
    process, port = start_pack(str(PACK_DIR))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.slow  # serves the pack in a process
def test_the_pack_also_starts_from_a_relative_program_path():
    process, port = start_pack(".")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert len(info.policies) == len(RULES)
    finally:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.slow  # serves the pack in a process
def test_served_pack_describes_every_policy(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [r.name for r in RULES]
    assert analyzer.GetPluginInfo(empty_pb2.Empty(), timeout=30).version


@pytest.mark.slow  # serves the pack in a process
def test_served_pack_reports_resource_violations_and_skips_unknowns(analyzer):
    bad = variant(SERVICE, {"template.containers.0.image": "us-docker.pkg.dev/p/r/qa:latest"})
    bad["template"]["serviceAccount"] = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown in preview
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=CLOUD_RUN, name="qa-service", urn=urn(CLOUD_RUN, "qa-service"), properties=struct(bad)
        ),
        timeout=30,
    )
    reported = {d.policyName: d for d in response.diagnostics}
    assert set(reported) == {"cloudrun-image-by-digest"}
    assert reported["cloudrun-image-by-digest"].enforcementLevel == analyzer_pb2.MANDATORY
    assert "Fix: deploy the pushed image's repo digest" in reported["cloudrun-image-by-digest"].message


@pytest.mark.slow  # serves the pack in a process
def test_served_pack_checks_invoker_grants_against_the_stack(analyzer):
    parent = urn("serverless-qa:index:CloudRunModelService", "qa")
    service = analyzer_pb2.AnalyzerResource(
        type=CLOUD_RUN,
        name="qa-service",
        urn=urn(CLOUD_RUN, "qa-service"),
        parent=parent,
        properties=struct(PRIVATE_SERVICE),
    )
    grant_urn = urn(CLOUD_RUN_IAM_MEMBER, "qa-invoker-allusers")
    grant = analyzer_pb2.AnalyzerResource(
        type=CLOUD_RUN_IAM_MEMBER,
        name="qa-invoker-allusers",
        urn=grant_urn,
        parent=parent,
        properties=struct(
            {"name": "qa", "location": "us-central1", "role": "roles/run.invoker", "member": "allUsers"}
        ),
    )
    component = analyzer_pb2.AnalyzerResource(
        type="serverless-qa:index:CloudRunModelService",
        name="qa",
        urn=parent,
        properties=struct({}),
    )
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[component, service, grant]), timeout=30
    )
    assert [(d.policyName, d.urn) for d in response.diagnostics] == [
        ("cloudrun-public-invoker-intended", grant_urn)
    ]
