"""Every rule's fixtures, from the per-area case modules."""

from __future__ import annotations

import policy_cases_cloud_run
import policy_cases_cold_starts
import policy_cases_front_door
import policy_cases_gke
import policy_cases_iam
import policy_cases_monitoring
import policy_cases_rollout

ALL_CASES = [
    *policy_cases_cloud_run.CASES,
    *policy_cases_cold_starts.CASES,
    *policy_cases_iam.CASES,
    *policy_cases_gke.CASES,
    *policy_cases_rollout.CASES,
    *policy_cases_monitoring.CASES,
    *policy_cases_front_door.CASES,
]
