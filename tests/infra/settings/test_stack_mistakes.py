"""Mistakes a new user makes in a stack, through `python -m infra render` as they run it: each
invalid case exits 2 with one `error:` line per problem naming the key and no traceback; the
corrected case renders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infra import __main__ as infra_cli
from infra.settings import stack_files

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def stack_dir(tmp_path, monkeypatch):
    """Stack files in a scratch directory (with the real Pulumi.yaml), rendered by the CLI."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    resolve = stack_files.resolve
    monkeypatch.setattr(
        stack_files, "resolve", lambda stack, overrides=None, **kw: resolve(stack, overrides, root=tmp_path)
    )
    return tmp_path


def render(capsys, stack: str, *sets: str) -> tuple[int, list[dict] | None, list[str]]:
    argv = ["render", stack, "--format", "json"]
    for pair in sets:
        argv += ["--set", pair]
    code = infra_cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, (json.loads(out) if code == 0 else None), err.splitlines()


def refused(capsys, stack: str, *sets: str) -> list[str]:
    code, _, err = render(capsys, stack, *sets)
    assert code == 2 and err and all(line.startswith("error: ") for line in err), err
    return [line.removeprefix("error: ") for line in err]


def service(resources: list[dict]) -> dict:
    (run,) = [r for r in resources if r["type"] == "gcp:cloudrunv2/service:Service"]
    return run


def invoker_members(resources: list[dict]) -> list[str]:
    """The `invokers` grants (not the monitoring's: prod's uptime check grants its agent too)."""
    return sorted(
        r["inputs"]["member"]
        for r in resources
        if r["type"].endswith("ServiceIamMember") and not r["name"].endswith("-uptime-invoker")
    )


def write(stack_dir: Path, body: str) -> str:
    (stack_dir / "Pulumi.t.yaml").write_text(body, encoding="utf-8")
    return "t"


# --- stack files are checked like --set -----------------------------------------------------------


def test_typos_in_a_stack_file_are_refused_with_the_closest_key(stack_dir, capsys):
    stack = write(stack_dir, "config:\n  serverless-qa:concurrancy: 4\n  serverless-qa:minInstance: 1\n")
    assert refused(capsys, stack) == [
        "Pulumi.t.yaml:2: serverless-qa:concurrancy: unknown key — did you mean serverless-qa:concurrency?",
        "Pulumi.t.yaml:3: serverless-qa:minInstance: unknown key — did you mean serverless-qa:minInstances?",
    ]
    write(stack_dir, "config:\n  serverless-qa:concurrency: 4\n  serverless-qa:minInstances: 1\n")
    code, resources, _ = render(capsys, stack)
    assert code == 0 and service(resources)["inputs"]["template"]["maxInstanceRequestConcurrency"] == 4


def test_a_wrong_namespace_a_bare_key_and_a_key_outside_config_are_refused(stack_dir, capsys):
    stack = write(stack_dir, "cpu: '4'\nconfig:\n  qa-serverless:cpu: '4'\n  memory: 8Gi\n")
    lines = refused(capsys, stack)
    assert [line.split(": ")[1] for line in lines] == ["cpu", "qa-serverless:cpu", "memory"]
    assert lines[1].endswith("did you mean serverless-qa:cpu?")
    assert lines[2].endswith("did you mean serverless-qa:memory?")


def test_an_unknown_gcp_key_on_the_command_line_is_refused(stack_dir, capsys):
    stack = write(stack_dir, "config: {}\n")
    assert refused(capsys, stack, "gcp:regoin=europe-west1") == [
        "--set gcp:regoin: unknown gcp setting — did you mean gcp:region?"
    ]


# --- values as the CLI passes them --------------------------------------------------------------


def test_yaml_scalars_reach_the_program_as_their_literal_text(stack_dir, capsys):
    """`yes` is a string to the Pulumi CLI, which refuses it for a boolean; `010` is "010" to a CLI
    before v3.88 and 8 since: refused until quoted (infra/settings/yaml_text.py has the sources)."""
    stack = write(stack_dir, "config:\n  serverless-qa:public: yes\n  serverless-qa:maxInstances: 010\n")
    assert refused(capsys, stack) == [
        'Pulumi.t.yaml:2: serverless-qa:public: "yes" is not of type boolean; the Pulumi CLI refuses it '
        "(\"must be of type 'boolean'\")",
        "Pulumi.t.yaml:3: serverless-qa:maxInstances: 010 reads as 8 with the Pulumi CLI 3.88 and later and "
        'as "010" before — quote it ("010") or write 8',
    ]
    write(stack_dir, 'config:\n  serverless-qa:public: true\n  serverless-qa:maxInstances: "010"\n')
    code, resources, _ = render(capsys, stack)
    assert code == 0 and invoker_members(resources) == ["allUsers"]
    assert service(resources)["inputs"]["template"]["scaling"]["maxInstanceCount"] == 10  # strconv.Atoi


def test_a_sexagesimal_timeout_is_text_and_refused(stack_dir, capsys):
    stack = write(stack_dir, "config:\n  serverless-qa:timeoutSeconds: 1:00\n")
    assert refused(capsys, stack) == [
        'Pulumi.t.yaml:2: serverless-qa:timeoutSeconds: "1:00" is not of type integer; the Pulumi CLI '
        "refuses it (\"must be of type 'integer'\")"
    ]
    write(stack_dir, "config: {}\n")
    assert refused(capsys, stack, "timeoutSeconds=1:00") == [
        'timeoutSeconds: "1:00" is not valid — a whole number 1…3600'
    ]


def test_repeated_empty_and_malformed_entries_name_file_and_line(stack_dir, capsys):
    stack = write(
        stack_dir, "config:\n  serverless-qa:cpu: '2'\n  serverless-qa:cpu: '4'\n  serverless-qa:gpu:\n"
    )
    lines = refused(capsys, stack)
    assert [line.split(": ")[0] for line in lines] == ["Pulumi.t.yaml:3", "Pulumi.t.yaml:4"]
    write(stack_dir, 'config:\n  serverless-qa:serviceName: "qa\n')
    (line,) = refused(capsys, stack)
    assert line.startswith("Pulumi.t.yaml:3: invalid YAML: found unexpected end of stream")


# --- values the platform refuses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "line"),
    [
        (
            "gcp:region=us-central1-a",
            'gcp:region: "us-central1-a" is not valid — a region, not a zone: us-central1',
        ),
        ("gcp:region=US-CENTRAL1", 'gcp:region: "US-CENTRAL1" is not valid — lowercase: us-central1'),
        ("gcp:region=us-centrall1", 'gcp:region: "us-centrall1" is not valid — a Cloud Run region'),
        ("gcp:project=My_Project", 'gcp:project: "My_Project" is not valid — a project ID'),
        ("serviceName=qa\n", 'serviceName: "qa\\n" is not valid — "qa", without the space around it'),
        ("memory= 4Gi", 'memory: " 4Gi" is not valid — "4Gi", without the space around it'),
        ("maxInstances= 3", 'maxInstances: " 3" is not valid — "3", without the space around it'),
        ("public=true ", 'public: "true " is not valid — "true", without the space around it'),
        ("cpu=２", 'cpu: "２" is not valid — 0.08…1 in steps of 0.001, or one of 1, 2, 4, 6, 8'),
        ("maxInstances=３", 'maxInstances: "３" is not valid — a whole number 1…1000'),
        ("sloAvailabilityGoal=０.９", 'sloAvailabilityGoal: "０.９" is not valid — a number above 0'),
        ("public=True", 'public: "True" is not valid — true or false'),  # the CLI's boolean check
        ("memory=3072", 'memory: "3072" is not valid — a size with a unit: 3072 is read as bytes; write 3Gi'),
        (
            'alertEmails="a@b.com"',
            'alertEmails: "\\"a@b.com\\"" is not valid — a list of strings, e.g. ["oncall@example.com"]',
        ),
        (
            'gkeMasterAuthorizedNetworks="10.0.0.0/8"',
            'gkeMasterAuthorizedNetworks: "\\"10.0.0.0/8\\"" is not valid — a list of strings, e.g. ["203.0.113.7/32"]',
        ),
        ("modelId=", 'modelId: "" is not valid — a Hugging Face Hub id'),
        ("serviceName=käse", 'serviceName: "käse" is not valid — lowercase letters'),
        ("memory=256Mi", 'memory: "256Mi" is not valid — at least 512Mi with executionEnvironment gen2'),
        (
            'invokers=["user:"]',
            'invokers: "user:" is not valid — a whole IAM member, e.g. user:you@example.com',
        ),
        (
            'invokers=["user:a@example.com", "user:A@example.com"]',
            'invokers: "user:A@example.com" is not valid — listed once',
        ),
        (
            "image=docker.io/library/nginx:latest",
            'image: "docker.io/library/nginx:latest" is not valid — an Artifact',
        ),
        ("gkeLocation=us-east1-b", None),  # ignored on Cloud Run, as documented: renders
    ],
)
def test_values_the_platform_refuses_fail_before_anything_is_declared(capsys, pair, line):
    if line is None:
        code, _, err = render(capsys, "prod", pair)
        assert code == 0, err
        return
    (problem,) = refused(capsys, "prod", pair)
    assert problem.startswith(line), problem


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--set", "cpu", "4"], "--set cpu 4: expected key=value — write --set cpu=4"),
        (["--set", "cpu"], "--set 'cpu': expected key=value, e.g. --set cpu=4"),
    ],
)
def test_set_written_as_pulumi_config_set_names_set_and_key_value(capsys, argv, line):
    assert infra_cli.main(["render", "dev", *argv]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {line}"]


def test_an_l4_gpu_needs_a_cloud_run_gpu_region(capsys):
    gpu = ("gpu=nvidia-l4", "cpu=4", "memory=16Gi", "cpuAlwaysAllocated=true", "runtime=torch")
    (problem,) = refused(capsys, "dev", *gpu, "gcp:region=europe-west2")
    assert problem.startswith(
        'gpu: "nvidia-l4" is not valid — empty in europe-west2: Cloud Run has nvidia-l4'
    )
    code, resources, _ = render(capsys, "dev", *gpu, "gcp:region=europe-west4")
    assert code == 0 and service(resources)["inputs"]["location"] == "europe-west4"


def test_gen1_allows_less_than_512_mib(capsys):
    code, resources, _ = render(capsys, "dev", "cpu=1", "memory=256Mi", "executionEnvironment=gen1")
    assert code == 0
    assert (
        service(resources)["inputs"]["template"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
    )


def test_gke_location_is_still_checked_where_there_is_a_cluster(capsys):
    (problem,) = refused(capsys, "gke", "gkeLocation=us-east1-b")
    assert problem.startswith('gkeLocation: "us-east1-b" is not valid — empty or us-central1')


@pytest.mark.slow  # a whole render
def test_the_extended_release_channel_is_accepted_on_both_sides(capsys):
    code, resources, _ = render(capsys, "gke", "gkeReleaseChannel=EXTENDED")
    assert code == 0
    (cluster,) = [r for r in resources if r["type"] == "gcp:container/cluster:Cluster"]
    assert cluster["inputs"]["releaseChannel"]["channel"] == "EXTENDED"


def test_distinct_invokers_each_get_a_grant(capsys):
    members = '["user:a@example.com", "group:team@example.com", "domain:example.com"]'
    code, resources, _ = render(capsys, "prod", f"invokers={members}")
    assert code == 0
    assert invoker_members(resources) == [
        "domain:example.com",
        "group:team@example.com",
        "user:a@example.com",
    ]


# --- public access under domain-restricted sharing ----------------------------------------------


def test_public_without_an_allusers_grant_turns_the_invoker_check_off(capsys):
    code, resources, _ = render(capsys, "dev", "publicAccess=invokerIamDisabled")
    assert code == 0
    run = service(resources)
    assert run["inputs"]["invokerIamDisabled"] is True
    assert run["inputs"]["labels"]["access"] == "public"
    assert invoker_members(resources) == []  # no allUsers: the org policy would refuse it
    _, default, _ = render(capsys, "dev")
    assert service(default)["inputs"]["invokerIamDisabled"] is False
    assert invoker_members(default) == ["allUsers"]


@pytest.mark.parametrize(
    ("stack", "pairs", "line"),
    [
        ("prod", (), 'publicAccess: "invokerIamDisabled" is not valid — allUsers unless `public: true`'),
        ("gke", (), 'publicAccess: "invokerIamDisabled" is not valid — allUsers on knative'),
        (
            "dev",
            ('invokers=["user:a@example.com"]',),
            'invokers: ["user:a@example.com"] is not valid — empty with publicAccess invokerIamDisabled',
        ),
    ],
)
def test_the_invoker_check_is_only_turned_off_where_it_means_something(capsys, stack, pairs, line):
    (problem,) = refused(capsys, stack, "publicAccess=invokerIamDisabled", *pairs)
    assert problem.startswith(line), problem


def test_under_pulumi_up_an_unread_key_is_refused_too():
    """The CLI hands the program every key of the stack: the program refuses a typo itself."""
    from infra.offline.mocks import OfflineMocks
    from infra.offline.monitor import run_with_mocks
    from infra.settings import SettingsError, settings_from_pulumi

    config = {key: value for key, value in stack_files.resolve("dev").values.items()}
    config |= {"serverless-qa:concurrancy": "4", "gcp:regoin": "x", "pulumi:tags": "{}"}
    with pytest.raises(SettingsError) as caught:
        run_with_mocks(
            settings_from_pulumi,
            project_name="serverless-qa",
            stack="dev",
            mock=OfflineMocks(project="example-project", region="us-central1"),
            config=config,
        )
    assert caught.value.problems == [
        "gcp:regoin: unknown gcp setting — did you mean gcp:region?",
        "serverless-qa:concurrancy: unknown key — did you mean serverless-qa:concurrency?",
    ]


def test_under_pulumi_up_the_stack_file_is_refused_as_the_render_refuses_it(tmp_path, monkeypatch):
    """A CLI since v3.88 hands the program `maxInstances: 010` as "8": the program reads the stack
    file itself and refuses it with file and line, as the offline render does."""
    from infra.offline.mocks import OfflineMocks
    from infra.offline.monitor import run_with_mocks
    from infra.settings import SettingsError, settings_from_pulumi

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  serverless-qa:maxInstances: 010\n")
    monkeypatch.setattr(stack_files, "ROOT", tmp_path)
    config = stack_files.resolve("dev").values | {"serverless-qa:maxInstances": "8"}
    with pytest.raises(SettingsError) as caught:
        run_with_mocks(
            settings_from_pulumi,
            project_name="serverless-qa",
            stack="t",
            mock=OfflineMocks(project="example-project", region="us-central1"),
            config=config,
        )
    assert caught.value.problems == [
        "Pulumi.t.yaml:2: serverless-qa:maxInstances: 010 reads as 8 with the Pulumi CLI 3.88 and later "
        'and as "010" before — quote it ("010") or write 8'
    ]
