"""The stack-file reader against the Pulumi CLI's rules: value text, namespace:key, repeated keys,
empty values, keys nobody reads, malformed files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.settings import stack_files
from infra.settings.stack_files import StackConfigError, resolve

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def stack(root: Path, body: str, name: str = "t") -> str:
    (root / f"Pulumi.{name}.yaml").write_text(body, encoding="utf-8")
    return name


def values(root: Path, body: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    return resolve(stack(root, body), overrides, root=root).project_values()


def problems(root: Path, body: str, overrides: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(StackConfigError) as error:
        resolve(stack(root, body), overrides, root=root)
    assert str(error.value).splitlines() == error.value.problems
    return error.value.problems


# --- value text: the literal text, which every Pulumi CLI since v3.50 passes -------------------
# Sources (infra/settings/yaml_text.py has them in full): before v3.88 the CLI passed a scalar's
# literal text (config/value.go `unmarshalValue`, go-yaml decode.go:616 `out.SetString(n.Value)`);
# from v3.88 it passes go-yaml v3's typed value as text (value.go:238, object.go:403). A scalar is
# accepted where the two agree, and passed as written.


@pytest.mark.parametrize(
    ("written", "passed"),
    [
        ("yes", "yes"),  # go-yaml v3 resolve.go:47 resolveMapList: no yes/no/on/off/y/n booleans
        ("no", "no"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("n", "n"),
        ("1:00", "1:00"),  # resolve.go: "Base 60 floats ... are purposefully unsupported"
        ("5", "5"),  # decimal integers: JSON text == literal text
        ("-3", "-3"),
        ("0.995", "0.995"),  # shortest float text == literal text
        ("true", "true"),
        ("'010'", "010"),  # quoted: a string for both readings (decode.go:568 indicatedString)
        ('"0x1F"', "0x1F"),
        ("!!str 1e3", "1e3"),
        ("'yes'", "yes"),  # quoting changes nothing where the readings agree
        ('"5"', "5"),
        ("Käse", "Käse"),  # Unicode as typed, never \u00e4
        ("|\n    two\n    lines", "two\nlines\n"),
    ],
)
def test_scalars_reach_the_program_as_their_literal_text(root, written, passed):
    assert values(root, f"config:\n  serverless-qa:serviceName: {written}\n")["serviceName"] == passed


@pytest.mark.parametrize(
    ("written", "passed"),
    [
        ("[user:a@example.com]", '["user:a@example.com"]'),  # lists and maps as compact JSON
        ("{b: 1, a: [true, null, yes, 010]}", '{"a":[true,null,"yes",8],"b":1}'),  # v3 inside
        ('["<b>"]', '["\\u003cb\\u003e"]'),  # encoding/json escapes HTML characters
        ("[1.0, 1e3, 0.5]", "[1,1000,0.5]"),
        # encoding/json: exponent form below 1e-6 and from 1e21, "e-09" cleaned up to "e-9"
        ("[1e-7, 1.5e-10, 0.000001, 1e21]", "[1e-7,1.5e-10,0.000001,1e+21]"),
    ],
)
def test_lists_and_maps_reach_the_program_as_json_with_go_yaml_v3_types_inside(root, written, passed):
    config = resolve(stack(root, f"config:\n  pulumi:tags: {written}\n"), root=root)
    assert config.values["pulumi:tags"] == passed


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        # strconv.ParseInt(s, 0, 64) in resolve.go: a leading 0 is octal, 0o/0x/0b prefixes, _ dropped
        ("010", '010 reads as 8 with the Pulumi CLI 3.88 and later and as "010" before — quote it'),
        ("0o10", "0o10 reads as 8 with"),
        ("0x1F", "0x1F reads as 31 with"),
        ("1_000", "1_000 reads as 1000 with"),
        ("+5", "+5 reads as 5 with"),
        ("08", "08 reads as 8 with"),  # not octal: yamlStyleFloat, then encoding/json's text
        ("1e3", "1e3 reads as 1000 with"),
        ("1.0", "1.0 reads as 1 with"),
        ("True", "True reads as true with"),
        (
            "!!int 010",
            "010 reads as 8 with",
        ),  # an explicit tag resolves as it says  # resolveMapList: True, TRUE are booleans
        (".inf", ".inf: +Inf cannot be JSON"),  # json.Marshal refuses +Inf: the CLI fails
        ("2026-12-01", "2026-12-01: reads as a timestamp"),  # resolve.go parseTimestamp → time.Time
        ("~", "no value"),  # resolveMapList nulls: "", ~, null, Null, NULL
        ("null", "no value"),
        ("", "no value"),
    ],
)
def test_scalars_the_cli_reads_two_ways_are_refused(root, written, problem):
    (line,) = problems(root, f"config:\n  serverless-qa:serviceName: {written}\n")
    assert line.startswith(f"Pulumi.t.yaml:2: serverless-qa:serviceName: {problem}"), line


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("public: yes", '"yes" is not of type boolean; the Pulumi CLI refuses it'),
        ("timeoutSeconds: 1:00", '"1:00" is not of type integer'),
        ('maxInstances: " 3"', '" 3" is not of type integer'),  # strconv.Atoi: no spaces
        ("maxInstances: ３", '"３" is not of type integer'),  # nor non-ASCII digits
        (
            "alertEmails: a@b.com",
            '"a@b.com" is not of type array<string>; the Pulumi CLI refuses it ("must be of type '
            "'array<string>'\"); write a YAML list, e.g. alertEmails: [oncall@example.com]",
        ),
        ('gkeMasterAuthorizedNetworks: "10.0.0.0/8"', "e.g. gkeMasterAuthorizedNetworks: [203.0.113.7/32]"),
        ("invokers: [1]", "[1] is not of type array<string>"),
        ("cpu: [4]", "[4] is not of type string"),
    ],
)
def test_values_the_cli_refuses_for_their_declared_type_are_refused(root, entry, problem):
    (line,) = problems(root, f"config:\n  serverless-qa:{entry}\n")
    assert line.startswith(f"Pulumi.t.yaml:2: serverless-qa:{entry.split(':')[0]}: "), line
    assert problem in line


def test_integers_with_a_leading_zero_or_sign_pass_the_cli_type_check_as_text(root):
    got = values(root, 'config:\n  serverless-qa:maxInstances: "010"\n  serverless-qa:public: "true"\n')
    assert got["maxInstances"] == "010" and got["public"] == "true"  # strconv.Atoi("010") is 10


def test_defaults_come_from_pulumi_yaml_and_stack_values_win(root):
    got = values(root, "config:\n  serverless-qa:cpu: '4'\n")
    assert got["cpu"] == "4" and got["timeoutSeconds"] == "60" and got["invokers"] == "[]"
    assert got["public"] == "false" and got["maxInstances"] == "3"
    assert got["memory"] == ""  # the "unset" sentinel settings/derive.py fills in
    config = resolve(stack(root, "config:\n  gcp:region: europe-west4\n"), root=root)
    assert config.values["gcp:region"] == "europe-west4"
    assert config.origins["gcp:region"] == "Pulumi.t.yaml:2"
    assert config.origins["serverless-qa:cpu"].startswith("Pulumi.yaml:")


def test_set_overrides_are_literal_strings_and_win(root):
    got = values(root, "config:\n  serverless-qa:maxInstances: 5\n", {"maxInstances": "010", "public": "yes"})
    assert got["maxInstances"] == "010" and got["public"] == "yes"  # `pulumi config set` keeps text


def test_secure_values_are_secret_and_masked(root):
    config = resolve(stack(root, "config:\n  serverless-qa:image:\n    secure: v1:abc\n"), root=root)
    assert config.values["serverless-qa:image"] == stack_files.SECRET_PLACEHOLDER
    assert config.secret_keys == ("serverless-qa:image",)


# --- keys: namespace:name -----------------------------------------------------------------------


def test_legacy_namespace_config_name_form_is_the_same_key(root):
    assert values(root, "config:\n  serverless-qa:config:cpu: '4'\n")["cpu"] == "4"


def test_key_without_namespace_in_a_stack_file_is_an_error(root):
    assert problems(root, "config:\n  cpu: 4\n") == [
        "Pulumi.t.yaml:2: cpu: not a configuration key — keys are namespace:name — did you mean serverless-qa:cpu?"
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "serverless-qa:concurrancy: 4",
            "serverless-qa:concurrancy: unknown key — did you mean serverless-qa:concurrency?",
        ),
        (
            "serverless-qa:minInstance: 1",
            "serverless-qa:minInstance: unknown key — did you mean serverless-qa:minInstances?",
        ),
        ("serverless-qa:CPU: '4'", "serverless-qa:CPU: unknown key — did you mean serverless-qa:cpu?"),
        ("qa-serverless:cpu: '4'", "qa-serverless:cpu: unknown namespace 'qa-serverless'"),
        ("gcp:regoin: europe-west1", "gcp:regoin: unknown gcp setting — did you mean gcp:region?"),
    ],
)
def test_unknown_keys_in_stack_files_name_the_closest_key(root, line, expected):
    (problem,) = problems(root, f"config:\n  {line}\n")
    assert problem.startswith(f"Pulumi.t.yaml:2: {expected}")


def test_wrong_namespace_suggests_the_project_key(root):
    (problem,) = problems(root, "config:\n  qa-serverless:cpu: '4'\n")
    assert problem.endswith("did you mean serverless-qa:cpu?")


def test_unknown_set_keys_name_the_closest_key(root):
    assert problems(root, "config: {}\n", {"concurrancy": "4", "gcp:regoin": "x"}) == [
        "--set concurrancy: unknown key — did you mean concurrency?",
        "--set gcp:regoin: unknown gcp setting — did you mean gcp:region?",
    ]


def test_engine_and_provider_keys_are_accepted(root):
    config = resolve(
        stack(root, "config:\n  pulumi:tags: {team: qa}\n  gcp:zone: europe-west1-b\n"), root=root
    )
    assert config.values["pulumi:tags"] == '{"team":"qa"}' and config.values["gcp:zone"] == "europe-west1-b"


def test_keys_outside_config_are_errors(root):
    body = "serverless-qa:cpu: '4'\ncpu: 4\nconfg:\n  a: b\nconfig:\n  serverless-qa:memory: 4Gi\n"
    assert problems(root, body) == [
        "Pulumi.t.yaml:1: serverless-qa:cpu: outside `config:` — the Pulumi CLI ignores it; indent it under config:",
        "Pulumi.t.yaml:2: cpu: outside `config:` — the Pulumi CLI ignores it; indent it under config:",
        "Pulumi.t.yaml:3: confg: not a stack-file setting (the Pulumi CLI ignores it) — did you mean config?",
    ]


# --- repeated keys, empty values ------------------------------------------------------------------


def test_a_repeated_key_is_an_error_not_the_last_value(root):
    body = "config:\n  serverless-qa:cpu: '2'\n  serverless-qa:memory: 4Gi\n  serverless-qa:cpu: '4'\n"
    assert problems(root, body) == [
        "Pulumi.t.yaml:4: serverless-qa:cpu: set again (first on line 2); the Pulumi CLI would silently "
        "keep this last one — keep one"
    ]


def test_the_legacy_form_of_a_key_counts_as_a_repeat(root):
    (problem,) = problems(root, "config:\n  serverless-qa:cpu: '2'\n  serverless-qa:config:cpu: '4'\n")
    assert problem.startswith("Pulumi.t.yaml:3: serverless-qa:cpu: set again (first on line 2)")


def test_an_empty_value_is_an_error_that_quotes_nothing_the_user_did_not_write(root):
    assert problems(root, "config:\n  serverless-qa:gpu:\n") == [
        'Pulumi.t.yaml:2: serverless-qa:gpu: no value — write serverless-qa:gpu: "" for an empty string, '
        "or remove the line to use the default"
    ]
    assert values(root, 'config:\n  serverless-qa:gpu: ""\n')["gpu"] == ""


def test_an_empty_file_or_config_section_is_the_defaults(root):
    assert values(root, "")["serviceName"] == "qa"
    assert values(root, "config:\n")["serviceName"] == "qa"


# --- malformed files: FILE:LINE: problem, one line -------------------------------------------------


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ('config:\n  serverless-qa:serviceName: "qa\n', "Pulumi.t.yaml:3: invalid YAML:"),
        ("config:\n\tserverless-qa:cpu: '4'\n", "Pulumi.t.yaml:2: invalid YAML:"),
        ("config:\n  - serverless-qa:cpu: '4'\n", "Pulumi.t.yaml:1: config: must be a mapping"),
        ("- a\n- b\n", "Pulumi.t.yaml:1: expected a mapping of settings at the top"),
        (
            "config:\n  serverless-qa:serviceName: a\x01b\n",
            "Pulumi.t.yaml: invalid YAML: unacceptable character",
        ),
    ],
)
def test_malformed_files_give_one_line_with_file_and_line(root, body, start):
    (problem,) = problems(root, body)
    assert problem.startswith(start), problem
    assert "\n" not in problem


def test_every_problem_is_listed(root):
    body = "config:\n  serverless-qa:cpus: '4'\n  serverless-qa:gpu:\n  gcp:regoin: x\n"
    assert [p.split(": ")[1] for p in problems(root, body)] == [
        "serverless-qa:cpus",
        "serverless-qa:gpu",
        "gcp:regoin",
    ]


def test_a_missing_stack_names_the_stacks_there(root):
    stack(root, "config: {}\n", name="dev")
    with pytest.raises(StackConfigError, match=r"stack 'nope': no Pulumi.nope.yaml; stacks here: dev"):
        resolve("nope", root=root)


# --- Pulumi.yaml --------------------------------------------------------------------------------


def test_project_schema_and_provider_values(root):
    project = stack_files.read_project(root)
    assert project.name == "serverless-qa"
    assert project.schema["cpu"]["type"] == "string"
    assert project.values["gcp:region"].text == "us-central1"
    assert project.values["serverless-qa:repositoryKeepVersions"].text == "10"
    assert project.values["serverless-qa:startupCpuBoost"].text == "true"


def test_a_default_of_the_wrong_type_is_refused(root):
    text = (root / "Pulumi.yaml").read_text().replace("default: qa", "default: 2", 1)
    (root / "Pulumi.yaml").write_text(text)
    with pytest.raises(
        StackConfigError,
        match=r"Pulumi.yaml:\d+: serverless-qa:serviceName: default '2' is not of type string",
    ):
        stack_files.read_project(root)


def test_shipped_stacks_read_cleanly():
    for name in stack_files.available_stacks():
        assert resolve(name).values["gcp:project"] == stack_files.PLACEHOLDER_PROJECT
