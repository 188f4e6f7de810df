"""No secrets in plain Cloud Run environment variables."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens
from policy.rule import Level, Rule
from policy.rules.cloud_run_template import containers, label
from policy.values import objects

# Name segments (split on "_", "-", ".") that mark a credential. Whole segments only, so
# MAX_TOKENS, TOKENIZER or KEY_FIELD are not taken for secrets.
_SECRET_WORDS = frozenset(
    {
        "TOKEN",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATEKEY",
    }
)
# "…_KEY" is a credential when the word before says what kind of key.
_KEY_KINDS = frozenset(
    {"API", "ACCESS", "PRIVATE", "SECRET", "SIGNING", "ENCRYPTION", "CLIENT", "SERVICE", "MASTER"}
)
# Values that are credentials whatever the variable is called.
_SECRET_VALUES = [
    re.compile(r"\bhf_[A-Za-z0-9]{30,}"),  # Hugging Face access token
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),  # Google API key
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),  # Google OAuth access token
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r'"type"\s*:\s*"service_account"'),  # a service account key file
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}"),  # GitHub token
    re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"),  # OpenAI-style secret key
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack token
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # credentials inside a URL
]
# Values that cannot be credentials, so a secret-sounding name holding them is fine.
_HARMLESS = re.compile(r"^(?:|true|false|yes|no|on|off|none|null|\d+(?:\.\d+)?)$", re.IGNORECASE)


def _secret_name(name: str) -> bool:
    words = [w for w in re.split(r"[_\-.]+", name.upper()) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(w == "KEY" and i > 0 and words[i - 1] in _KEY_KINDS for i, w in enumerate(words))


def env_problems(where: str, envs: Any) -> Iterator[str]:
    """Plain-text secrets in a container's env list (Cloud Run `envs`, Kubernetes `env`: both
    `{name, value}`; references to secrets have no `value`)."""
    for env in objects(envs):
        name, value = env.get("name"), env.get("value")
        if not isinstance(value, str):
            continue  # a secret reference (valueSource / valueFrom), or unknown
        if any(p.search(value) for p in _SECRET_VALUES):
            yield f"{where} env {name} holds a credential in plain text"
        elif isinstance(name, str) and _secret_name(name) and not _HARMLESS.match(value.strip()):
            yield f"{where} env {name} looks like a secret set as a plain value"


def _check(_type: str, inputs: Mapping[str, Any]) -> Iterator[str]:
    for index, container in enumerate(containers(inputs)):
        yield from env_problems(label(container, index), container.get("envs"))


RULES = [
    Rule(
        name="cloudrun-no-plaintext-secrets",
        level=Level.MANDATORY,
        what=(
            "Cloud Run env vars hold no plain values that look like secrets (tokens, keys, "
            "passwords — by name or by value)."
        ),
        why=(
            "Plain env values are stored in the revision and shown to anyone with run.services.get "
            "(and in Pulumi state); a Pulumi secret passed as a plain value is plain text there too."
        ),
        fix=(
            "store it in Secret Manager and reference it with env.valueSource.secretKeyRef "
            "(grant the runtime account roles/secretmanager.secretAccessor on that secret)"
        ),
        types=frozenset({tokens.CLOUD_RUN_SERVICE}),
        check=_check,
    ),
]
