"""Entry point for both roles of this directory.

* `pulumi preview --policy-pack policy`: the Pulumi CLI starts the pack as
  `python -u -m pulumi.policy ENGINE_ADDRESS PACK_DIR` (with PulumiPolicy.yaml's virtualenv),
  and `pulumi.policy`'s main runs this file with `runpy.run_path(PACK_DIR, run_name="__main__")`
  — as a path, outside any package. Then we serve the pack: PolicyPack's constructor starts the
  analyzer's gRPC server and prints its port for the engine.
* `python -m policy check …`: Python imports this file as the module `policy.__main__`, so it
  runs the offline checker and never touches the gRPC server.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

CLI_COMMANDS = ("check", "rules")


def launched_by_pulumi(package: str | None, argv: Sequence[str]) -> bool:
    """True when the Pulumi CLI loaded this file as a policy pack.

    `python -m policy` sets `__package__` to "policy"; `runpy.run_path` (the CLI's path) leaves it
    empty. A path run whose first argument is a CLI command (`python policy check dev`) is a
    person at a shell, not the engine (which passes its gRPC address first).
    """
    if package:
        return False
    return not (len(argv) > 1 and argv[1] in CLI_COMMANDS)


def _importable_as_package() -> None:
    """Run as a path, the pack directory itself is on sys.path (which would expose `cli`,
    `rules`… as top-level modules) and the repository root is not; fix both so that every
    module is imported once, as `policy.…`."""
    pack_dir = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != pack_dir]
    root = str(pack_dir.parent)
    if root not in sys.path:
        sys.path.insert(0, root)


if __name__ == "__main__":
    if launched_by_pulumi(__package__, sys.argv):
        _importable_as_package()
        from policy.pack import serve

        serve()
    else:
        if not __package__:
            _importable_as_package()
        from policy.cli import run

        sys.exit(run(sys.argv[1:]))
