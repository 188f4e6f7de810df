"""The node pools a GKE resource defines (shared by the gke_* rules).

A `gcp.container.Cluster` defines the default pool through its top-level `nodeConfig` (unless
`removeDefaultNodePool`), plus any inline `nodePools`; a `gcp.container.NodePool` defines one.
Autopilot clusters have no user-managed pools: Google enforces node hardening there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy import tokens
from policy.values import get, is_true, is_unknown, objects

CLUSTER = frozenset({tokens.GKE_CLUSTER})
NODE_POOL = frozenset({tokens.GKE_NODE_POOL})
BOTH = CLUSTER | NODE_POOL


@dataclass(frozen=True)
class Pool:
    where: str  # for messages: 'the default node pool', 'node pool "gpu"'
    node_config: Any  # Mapping, None (all defaults) or UNKNOWN
    management: Any  # Mapping, None (provider defaults) or UNKNOWN


def autopilot(inputs: Mapping[str, Any]) -> Any:
    """True / False, or UNKNOWN."""
    value = get(inputs, "enableAutopilot")
    return value if is_unknown(value) else is_true(value)


def pools(resource_type: str, inputs: Mapping[str, Any]) -> Iterator[Pool]:
    if resource_type == tokens.GKE_NODE_POOL:
        yield Pool("the node pool", get(inputs, "nodeConfig"), get(inputs, "management"))
        return
    mode = autopilot(inputs)
    if is_unknown(mode) or mode is True:
        return
    remove_default = get(inputs, "removeDefaultNodePool")
    if not is_unknown(remove_default) and not is_true(remove_default):
        # The default pool's management is not configurable on the cluster: provider defaults.
        yield Pool("the default node pool", get(inputs, "nodeConfig"), None)
    for index, pool in enumerate(objects(get(inputs, "nodePools"))):
        name = pool.get("name")
        where = f'node pool "{name}"' if isinstance(name, str) else f"node pool #{index}"
        yield Pool(where, pool.get("nodeConfig"), pool.get("management"))
