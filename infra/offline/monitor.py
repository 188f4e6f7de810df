"""Runs a Pulumi program in-process against mocks and records what it declared: every resource
with its parent, dependencies and provider, and the stack outputs."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import run_in_stack

from infra.pulumi_internals import run_sync


@dataclass(frozen=True)
class Registration:
    """What the program declared: the resource as `pulumi up` would send it to the engine."""

    type: str
    name: str
    parent: str | None  # logical name of the parent (None: the stack itself)
    inputs: dict[str, Any]  # wire names; secrets wrapped as the SDK sends them
    dependencies: tuple[str, ...]  # logical names of explicit and implicit dependencies
    urn: str
    provider: str | None = None  # logical name of an explicit provider (None: the default one)


def logical_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider_name(reference: str) -> str | None:
    """`URN::ID` of an explicit provider → its logical name; default providers → None."""
    if not reference:
        return None
    name = logical_name(reference.rsplit("::", 1)[0])
    return None if name.startswith("default") else name


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also recording parents, dependencies and stack outputs."""

    def __init__(self, mock: pulumi.runtime.Mocks):
        super().__init__(mock)
        self.registrations: list[Registration] = []
        self.stack_outputs: dict[str, Any] = {}
        self._stack_urn = ""

    def RegisterResource(self, request):  # noqa: N802 — gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self._stack_urn = response.urn
            return response
        parent = None if request.parent in ("", self._stack_urn) else logical_name(request.parent)
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                parent=parent,
                inputs=rpc.deserialize_properties(request.object),
                dependencies=tuple(sorted({logical_name(u) for u in request.dependencies})),
                urn=response.urn,
                provider=_provider_name(request.provider),
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 — gRPC method name
        if request.urn == self._stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def run_with_mocks(
    program,
    *,
    project_name: str,
    stack: str,
    mock: pulumi.runtime.Mocks,
    config: dict[str, str],
    secret_keys: list[str] | tuple[str, ...] = (),
) -> RecordingMonitor:
    """Run `program` (a callable declaring resources) as `pulumi up` would, against mocks."""
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    monitor = RecordingMonitor(mock)
    pulumi.runtime.set_mocks(mock, project=project_name, stack=stack, preview=False, monitor=monitor)
    # set_mocks leaves a finished root stack behind; run in a fresh one, as the CLI's language
    # host does, so `pulumi.export`s are registered as stack outputs.
    set_root_resource(None)
    run_sync(run_in_stack(program))
    # Collect the SDK's finished futures and their event loop now, while the loop can still be
    # closed cleanly: left to interpreter shutdown, that sometimes prints an 'Exception ignored'
    # traceback (Invalid file descriptor) on stderr after a successful render.
    gc.collect()
    return monitor
