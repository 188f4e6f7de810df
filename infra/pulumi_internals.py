"""The Pulumi SDK internals this project relies on where the SDK offers no public API.

All of them are here, and tests/infra/test_pulumi_internals.py checks each one, so an SDK upgrade
that moves one fails there, naming what moved, rather than somewhere downstream:
- `configured_keys`: every config key the engine handed the program. `pulumi.Config` reads one key
  at a time; the whole map is `pulumi.runtime.config.CONFIG` (set by the language host) and the
  `PULUMI_CONFIG` environment that `get_config_env` reads.
- `provider_config_keys`: the keys a provider SDK reads, from the `__config__.get…('key')` calls of
  its generated `config/vars.py` (a provider SDK lists them nowhere else).
- `run_sync`: the SDK's `_sync_await`, which runs a coroutine on the event loop the SDK's own
  futures are bound to (`asyncio.run` would start another one).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Awaitable
from functools import cache
from pathlib import Path
from typing import TypeVar

from pulumi.runtime import config as runtime_config
from pulumi.runtime.sync_await import _sync_await

T = TypeVar("T")
VARS_CALL = re.compile(r"__config__\.get\w*\('([^']+)'\)")


def configured_keys() -> set[str]:
    """Every config key set for this run (the stack's, the project's, the engine's)."""
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


@cache
def provider_config_keys(namespace: str) -> frozenset[str] | None:
    """The config keys a provider SDK reads (`pulumi_<ns>/config/vars.py`); None: no such SDK."""
    spec = importlib.util.find_spec(f"pulumi_{namespace.replace('-', '_')}")
    if spec is None or not spec.submodule_search_locations:
        return None
    variables = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    return frozenset(VARS_CALL.findall(variables.read_text())) if variables.exists() else frozenset()


def run_sync(awaitable: Awaitable[T]) -> T:
    """Run a coroutine to completion on the SDK's event loop."""
    return _sync_await(awaitable)
