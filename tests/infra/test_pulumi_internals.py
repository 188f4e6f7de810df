"""Each Pulumi SDK internal the project relies on (infra/pulumi_internals.py) still does what the
project needs: an SDK upgrade that moves one fails here, with a message naming what moved."""

from __future__ import annotations

import asyncio
import json

import pulumi

from infra import pulumi_internals


def test_configured_keys_lists_what_the_language_host_set_and_the_environment(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"proj:fromEnv": "1"}))
    pulumi.runtime.set_all_config({"proj:cpu": "4", "gcp:regoin": "x"})
    try:
        keys = pulumi_internals.configured_keys()
    finally:
        pulumi.runtime.set_all_config({})
    assert keys == {"proj:cpu", "gcp:regoin", "proj:fromEnv"}, (
        "pulumi.runtime.config.CONFIG / get_config_env no longer hold the config map: "
        "settings_from_pulumi cannot refuse keys nothing reads"
    )


def test_provider_config_keys_reads_the_generated_vars_module():
    keys = pulumi_internals.provider_config_keys("gcp")
    assert keys is not None and {"project", "region", "zone"} <= keys and len(keys) > 50, (
        f"pulumi_gcp/config/vars.py no longer matches {pulumi_internals.VARS_CALL.pattern!r}: "
        "unknown gcp:* keys cannot be told from real ones"
    )
    assert pulumi_internals.provider_config_keys("nosuchprovider") is None


def test_run_sync_runs_a_coroutine_on_the_sdk_loop():
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert pulumi_internals.run_sync(answer()) == 42, "pulumi.runtime.sync_await._sync_await changed"
