"""Derive `knative-service.schema.json` from the Knative Service CRD (a development tool).

    python infra/schemas/derive_knative_schema.py PATH/TO/services.serving.knative.dev.yaml \
        > infra/schemas/knative-service.schema.json

The CRD is knative/serving's config/core/300-resources/service.yaml. The project keeps only the
derived schema: tests validate the rendered Service against it, never against the CRD. What the
derivation changes, and why:
- descriptions go (size); a field Knative only accepts behind a config-features flag keeps the
  flag's name as `x-knative-feature`, so tests can check the flag is enabled where it is used;
- an object with declared properties rejects unknown ones (`additionalProperties: false`) unless
  the CRD preserves unknown fields: Kubernetes would silently prune them, a typo would be lost;
- `x-kubernetes-int-or-string` becomes `anyOf: [integer, string]`; other x-kubernetes-* go;
- `status` goes (a manifest to apply carries none); apiVersion, kind and metadata are tightened.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

FEATURE = re.compile(r"behind a feature flag - ([\w.-]+)")
SOURCE = (
    "knative/serving config/core/300-resources/service.yaml (services.serving.knative.dev, "
    "version v1, openAPIV3Schema), main branch 2026-08"
)


def convert(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if feature := FEATURE.search(node.get("description", "")):
        out["x-knative-feature"] = feature.group(1)
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    for key, value in node.items():
        if key in ("description", "format") or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: convert(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = convert(value)
        elif key == "anyOf":
            out[key] = [convert(v) for v in value]
        else:
            out[key] = value
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


def derive(crd: dict[str, Any]) -> dict[str, Any]:
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = convert(version["schema"]["openAPIV3Schema"])
    schema["properties"].pop("status", None)
    schema["properties"]["apiVersion"] = {"const": "serving.knative.dev/v1"}
    schema["properties"]["kind"] = {"const": "Service"}
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            # The Service name prefixes its revisions (NAME-00001) and routes: a DNS label.
            "name": {"type": "string", "pattern": "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"},
            "namespace": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"},
            "labels": string_map,
            "annotations": string_map,
        },
    }
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://serverless-qa.invalid/schemas/knative-service.schema.json",
        "title": "Knative Service (serving.knative.dev/v1) as this project renders it",
        "$comment": f"Derived from {SOURCE} by infra/schemas/derive_knative_schema.py.",
        **schema,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    crd = yaml.safe_load(Path(argv[0]).read_text())
    json.dump(derive(crd), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
