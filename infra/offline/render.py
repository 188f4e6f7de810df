"""Offline rendering: run the real Pulumi program against mocks and print what it declares.

No Pulumi CLI, no credentials, no network. The stack's config comes from Pulumi.yaml defaults,
Pulumi.<stack>.yaml and `--set` overrides (see `infra.settings.stack_files`). Output is deterministic: the
same input gives byte-identical output, so renders can be diffed in review.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass, field
from typing import Any

import yaml
from pulumi.runtime import rpc

from infra.cost import DEFAULT_LATENCY_MS, CostInputs, cost_section, estimate
from infra.cost.front_door import front_door_markdown
from infra.cost.model import REVIEW_RPS
from infra.offline.flat import flatten
from infra.offline.from_cli import resolve as from_cli_config
from infra.offline.mocks import OfflineMocks
from infra.offline.monitor import Registration, run_with_mocks
from infra.offline.monitoring_review import Spend, review_table
from infra.offline.stand_ins import STAND_IN_DIGEST, STAND_IN_IP
from infra.settings import derived_values, settings_from_config, stack_files

PROGRAM = stack_files.ROOT / "__main__.py"
SECRET = stack_files.SECRET_PLACEHOLDER
FORMATS = ("json", "yaml", "markdown")


@dataclass(frozen=True)
class Rendering:
    stack: str
    config: dict[str, str]  # the resolved config the program ran with (secrets masked)
    resources: list[dict[str, Any]]  # {"type", "name", "parent", "inputs", "dependsOn", "provider"}
    outputs: dict[str, Any]
    source: stack_files.StackConfig  # the resolved config (the stack files', or the Pulumi CLI's)
    overrides: dict[str, str] = field(default_factory=dict)  # the `--set` values it ran with


def plain(value: Any) -> Any:
    """Wire values as a reviewer reads them: secrets masked, whole numbers without '.0'
    (protobuf carries every number as a double)."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _resource(reg: Registration) -> dict[str, Any]:
    return {
        "type": reg.type,
        "name": reg.name,
        "parent": reg.parent,
        "inputs": plain(reg.inputs),
        "dependsOn": list(reg.dependencies),
        "provider": reg.provider,
    }


def render(stack: str, overrides: dict[str, str] | None = None, program=PROGRAM, from_cli=False) -> Rendering:
    """Run the program for `stack` (config: its files, or the Pulumi CLI); bad config raises."""
    config = (from_cli_config if from_cli else stack_files.resolve)(stack, overrides)
    region = config.values.get("gcp:region", "us-central1")
    mock = OfflineMocks(project=config.values["gcp:project"], region=region)
    monitor = run_with_mocks(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project_name=config.project_name,
        stack=stack,
        mock=mock,
        config=config.values,
        secret_keys=config.secret_keys,
    )
    resources = sorted((_resource(r) for r in monitor.registrations), key=lambda r: (r["name"], r["type"]))
    shown_config = {k: (SECRET if k in config.secret_keys else v) for k, v in config.values.items()}
    # A key left unset shows what the settings derived for it (with or without a gpu).
    for key, value in derived_values(config.project_values()).items():
        shown_config[f"{config.project_name}:{key}"] = f"{value} (unset: derived)"
    outputs = plain(monitor.stack_outputs)
    return Rendering(stack, shown_config, resources, outputs, config, dict(overrides or {}))


# --- formats -----------------------------------------------------------------------------------


def to_json(rendering: Rendering) -> str:
    return (
        json.dumps(
            [{k: r[k] for k in ("type", "name", "parent", "inputs")} for r in rendering.resources],
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def in_dependency_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources ordered so each comes after what it depends on (ties by name): the order
    `kubectl apply -f` needs (a Namespace before what lives in it)."""
    by_name = {r["name"]: r for r in resources}
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []

    def visit(name: str, seen: tuple[str, ...] = ()) -> None:
        if name in done or name in seen or name not in by_name:
            return
        for dependency in sorted(by_name[name]["dependsOn"]):
            visit(dependency, (*seen, name))
        done.add(name)
        ordered.append(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return ordered


def kubernetes_manifests(rendering: Rendering) -> list[dict[str, Any]]:
    """Kubernetes objects as `kubectl apply -f` takes them (typed resources, patches and
    CustomResources), in dependency order."""
    manifests = []
    for r in in_dependency_order(rendering.resources):
        manifest = kubernetes_manifest(r["type"], r["inputs"])
        if manifest is not None:
            manifests.append(manifest)
    return manifests


# Pulumi resources that stand for a whole manifest file (applied as-is from its URL or path).
BUNDLE_TYPES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml:ConfigFile")


def kubernetes_bundles(rendering: Rendering) -> list[str]:
    """The manifest files a stack applies (Knative's release manifests), in dependency order."""
    return [
        r["inputs"]["file"]
        for r in in_dependency_order(rendering.resources)
        if r["type"] in BUNDLE_TYPES and "file" in r["inputs"]
    ]


# Keys shown first, in this order; the rest sorted (protobuf maps carry no order of their own).
_LEADING_KEYS = ("apiVersion", "kind", "metadata", "name", "namespace")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        keys = [k for k in _LEADING_KEYS if k in value] + sorted(k for k in value if k not in _LEADING_KEYS)
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def kubernetes_manifest(resource_type: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """A Kubernetes object's inputs as a manifest (apiVersion and kind first); None when the
    resource is not one object (providers, YAML/Helm bundles) or not Kubernetes at all.

    A `…Patch` resource becomes the partial object it applies: `kubectl apply --server-side`
    merges it the same way (only the fields given, owned by this field manager)."""
    if not resource_type.startswith("kubernetes:") or "kind" not in inputs:
        return None
    return _canonical(inputs)


def stand_ins(rendering: Rendering) -> list[str]:
    """Values the mocks made up where only a real deployment knows them (image digests resolved
    from a tag or a build, reserved IP addresses): marked in the values, listed in the review
    formats, so that none is deployed as it is."""
    text = json.dumps([[r["inputs"] for r in rendering.resources], rendering.outputs], sort_keys=True)
    return sorted(set(STAND_IN_DIGEST.findall(text)) | set(STAND_IN_IP.findall(text)))


def _stand_in_lines(values: list[str]) -> list[str]:
    return [
        "STAND-INS: this offline render made up these values (digests sha256:0ff11e…, addresses in",
        "the documentation ranges 203.0.113.0/24 and 198.51.100.0/24); `pulumi up` gets the real",
        "ones. Do not apply or deploy them as they are:",
        *(f"  {value}" for value in values),
    ]


def _yaml_header(stack: str, bundles: list[str]) -> str:
    # The render is for review: a deployment's digests and addresses are stand-ins here, and
    # `make up` is the one way the stack is deployed (docs/knative.md).
    lines = [
        f"# Kubernetes objects of stack {stack}, in dependency order, for review: `make up STACK={stack}`",
        "# deploys them. They are in the form server-side apply takes (the ConfigMaps and the gateway",
        "# Service are partial: patches of objects the release ships):",
        "#   kubectl apply --server-side -f THIS_FILE",
    ]
    if bundles:
        lines += ["# after the release manifests the stack installs, in this order:"]
        lines += [f"#   kubectl apply --server-side -f {url}" for url in bundles]
    return "\n".join(lines) + "\n"


def to_yaml(rendering: Rendering) -> str:
    manifests = kubernetes_manifests(rendering)
    values = stand_ins(rendering)
    warning = "".join(f"# {line}\n" for line in _stand_in_lines(values)) if values else ""
    if manifests:
        header = _yaml_header(rendering.stack, kubernetes_bundles(rendering)) + warning
        return header + yaml.safe_dump_all(manifests, sort_keys=False, allow_unicode=True, width=100)
    # A stack without Kubernetes objects (Cloud Run): the resource list, in YAML.
    body = yaml.safe_dump(json.loads(to_json(rendering)), sort_keys=False, allow_unicode=True, width=100)
    return warning + body


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(rendering: Rendering) -> str:
    project_prefix = f"{stack_files.project_name()}:"
    lines = [f"## Stack `{rendering.stack}`: {len(rendering.resources)} resources", ""]
    if values := stand_ins(rendering):
        text = _stand_in_lines(values)
        lines += ["> " + " ".join(text[:3]), *(f"> - `{v.strip()}`" for v in text[3:]), ""]
    lines += [
        "| setting | value |",
        "|---|---|",
    ]
    for key, value in rendering.config.items():
        lines.append(f"| `{key.removeprefix(project_prefix)}` | {_cell(value)} |")
    lines += ["", "| resource | type | parent |", "|---|---|---|"]
    for r in rendering.resources:
        lines.append(f"| `{r['name']}` | `{r['type']}` | {r['parent'] or '(stack)'} |")
    if rendering.outputs:
        lines += ["", "| output | value |", "|---|---|"]
        for key, value in sorted(rendering.outputs.items()):
            lines.append(f"| `{key}` | `{_cell(value)}` |")
    for r in rendering.resources:
        fields = flatten(r["inputs"])
        if not r["inputs"]:
            continue
        lines += [
            "",
            f"<details><summary><code>{r['name']}</code> ({r['type']})</summary>",
            "",
            "| input | value |",
            "|---|---|",
        ]
        lines += [f"| `{k}` | {_cell(v)} |" for k, v in fields.items()]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n\n" + monitoring_markdown(rendering) + "\n" + cost_markdown(rendering)


COST_RPS = REVIEW_RPS  # the review table's reference traffic; `bench cost` takes any rate


def cost_markdown(rendering: Rendering) -> str:
    """What the stack's settings cost at a reference rate, so a review sees cost change too."""
    settings = settings_from_config(rendering.source)
    return (
        cost_section(settings, COST_RPS).replace("## Monthly cost", "### Monthly cost", 1)
        + f"\nOther rates: `.venv/bin/python -m bench cost {rendering.stack} --rps R`.\n"
        + (f"\n{extra}" if (extra := front_door_markdown(settings, COST_RPS)) else "")
    )


def monitoring_markdown(rendering: Rendering) -> str:
    """Alerts, SLOs and the budget as one table, the budget beside the cost model's estimate."""
    inputs = CostInputs.from_settings(settings_from_config(rendering.source))
    busy_rps = inputs.max_instances * inputs.concurrency / (DEFAULT_LATENCY_MS / 1000)
    spend = Spend(
        expected=estimate(inputs, COST_RPS).serverless.total,
        rate_rps=COST_RPS,
        ceiling=estimate(inputs, busy_rps).serverless.total,
    )
    return review_table(rendering.resources, spend)


def format_rendering(rendering: Rendering, fmt: str) -> str:
    return {"json": to_json, "yaml": to_yaml, "markdown": to_markdown}[fmt](rendering)
