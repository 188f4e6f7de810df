"""Stand-in for the `pulumi` CLI, so the rollout's automation tests run without it (or a cloud).

It answers the subcommands pulumi.automation runs — `version`, `stack select`, `config --json`,
`config set`, `up`, `stack output --json`, `stack history --json` — with the real CLI's flags and
JSON shapes, and keeps the stack file in the working directory as the CLI does. `config --json`
types the stack file's values with PyYAML (YAML 1.1), close to what the CLI since v3.88 passes
(go-yaml v3: `010` is "8"), not equal to it (`yes` is "true" here, "yes" there). `up` runs the
real Pulumi program offline (infra's render, with the SDK's mocks) on the stack file's values, so
the outputs are what the program exports. Every call is appended to $FAKE_PULUMI_HOME/calls.jsonl.
A lock file there makes `up` fail as the CLI's stack lock does; $FAKE_PULUMI_INTERRUPT_UP=N
cancels the N-th `up` (1-based) before it changes anything; $FAKE_PULUMI_URLS names a JSON file
of URL outputs (url, candidateUrl) to replace, where present, with local services' URLs.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

HOME = Path(os.environ["FAKE_PULUMI_HOME"])
LOCKED = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
    "or delete the lock file with `pulumi cancel`."
)


def _value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1] if flag in args else ""


def _state(stack: str) -> dict:
    path = HOME / f"{stack}.json"
    return json.loads(path.read_text()) if path.exists() else {"outputs": {}, "history": []}


def _stack_file(stack: str) -> Path:
    return Path.cwd() / f"Pulumi.{stack}.yaml"


def _config(stack: str) -> dict:
    data = yaml.safe_load(_stack_file(stack).read_text()) or {}
    return data.get("config") or {}


def _text(value: object) -> str:
    """A config value as the CLI prints it: lists and maps as compact JSON, booleans lower-case."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _up(stack: str, message: str) -> int:
    lock = HOME / "lock"
    if lock.exists():
        print(LOCKED, file=sys.stderr)
        return 255
    state = _state(stack)
    ups = len(state["history"]) + 1
    if os.environ.get("FAKE_PULUMI_INTERRUPT_UP") == str(ups):
        state["history"].append({"kind": "update", "message": message, "result": "failed"})
        (HOME / f"{stack}.json").write_text(json.dumps(state))
        print("error: update canceled", file=sys.stderr)
        return 255
    lock.write_text(str(os.getpid()))
    try:
        # Imported here: every other subcommand answers without loading the program's modules.
        # PYTHONPATH has the repository (the test sets it).
        from infra.offline.render import render
        from infra.settings import SettingsError

        project = yaml.safe_load((Path.cwd() / "Pulumi.yaml").read_text())["name"]
        prefix = f"{project}:"
        overrides = {
            k.removeprefix(prefix): _text(v) for k, v in _config(stack).items() if k.startswith(prefix)
        }
        started = _now()
        try:
            rendering = render(stack, overrides)
        except SettingsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 255
        state["outputs"] = rendering.outputs
        # Where the "revisions" answer: the test points the URL outputs at local services.
        if os.environ.get("FAKE_PULUMI_URLS"):
            urls = json.loads(Path(os.environ["FAKE_PULUMI_URLS"]).read_text())
            state["outputs"].update({k: v for k, v in urls.items() if state["outputs"].get(k)})
        state["history"].append(
            {
                "kind": "update",
                "startTime": started,
                "endTime": _now(),
                "message": message,
                "result": "succeeded",
                "environment": {},
                "config": {},
                "version": ups,
                "resourceChanges": {"same": len(rendering.resources)},
            }
        )
        (HOME / f"{stack}.json").write_text(json.dumps(state))
        print(f"Updating ({stack})\nResources:\n    {len(rendering.resources)} unchanged")
        return 0
    finally:
        lock.unlink()


def main(argv: list[str]) -> int:  # noqa: PLR0911 — one answer per subcommand
    args = [a for a in argv if a != "--non-interactive"]
    HOME.mkdir(parents=True, exist_ok=True)
    with (HOME / "calls.jsonl").open("a") as calls:
        calls.write(json.dumps(args) + "\n")
    if args == ["version"]:
        print("v3.200.0")
        return 0
    stack = _value(args, "--stack")
    if stack and not _stack_file(stack).exists():
        print(f"error: no stack named '{stack}' found", file=sys.stderr)
        return 255
    if args[:2] == ["stack", "select"]:
        return 0
    if args[:2] == ["config", "set"]:
        key, value = args[2], args[args.index("--") + 1]
        data = yaml.safe_load(_stack_file(stack).read_text()) or {}
        data.setdefault("config", {})[key] = value
        _stack_file(stack).write_text(yaml.safe_dump(data, sort_keys=False))
        return 0
    if args[0] == "config" and "--json" in args:
        print(json.dumps({k: {"value": _text(v), "secret": False} for k, v in _config(stack).items()}))
        return 0
    if args[:2] == ["stack", "output"]:
        print(json.dumps(_state(stack)["outputs"]))
        return 0
    if args[:2] == ["stack", "history"]:
        done = [h for h in reversed(_state(stack)["history"]) if h["result"] == "succeeded"]
        print(json.dumps(done[: int(_value(args, "--page-size") or len(done))]))
        return 0
    if args[0] == "up":
        return _up(stack, _value(args, "--message"))
    print(f"error: the stand-in does not know `pulumi {' '.join(args)}`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
