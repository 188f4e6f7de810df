"""Every rule of the pack, in the order the README lists them."""

from __future__ import annotations

from policy.rule import AnyRule
from policy.rules import (
    artifact_registry,
    cloud_run_access,
    cloud_run_env,
    cloud_run_identity,
    cloud_run_image,
    cloud_run_probes,
    cloud_run_protection,
    cloud_run_scaling,
    cold_starts,
    front_door,
    gke_cluster,
    gke_nodes,
    iam,
    knative_service,
    monitoring,
    project_services,
    rollout,
)

RULES: tuple[AnyRule, ...] = (
    *cloud_run_identity.RULES,
    *cloud_run_image.RULES,
    *cloud_run_scaling.RULES,
    *cloud_run_probes.RULES,
    *cloud_run_env.RULES,
    *cloud_run_access.RULES,
    *cloud_run_protection.RULES,
    *cold_starts.RULES,
    *front_door.RULES,
    *iam.RULES,
    *artifact_registry.RULES,
    *project_services.RULES,
    *gke_cluster.RULES,
    *gke_nodes.RULES,
    *knative_service.RULES,
    *rollout.RULES,
    *monitoring.RULES,
)

BY_NAME: dict[str, AnyRule] = {rule.name: rule for rule in RULES}
if len(BY_NAME) != len(RULES):  # CrossGuard identifies policies by name
    raise ValueError("policy rule names must be unique")
