"""Where things live on Google Cloud, as data: Cloud Run regions and its GPU regions, how
region, zone and project names are written, Artifact Registry's hosts; and the checks that use
them. Each check returns None when the value is fine, else the text of what *is* valid.
"""

from __future__ import annotations

import difflib
import re

# cloud.google.com/run/docs/locations (stored copy read 2026-12): where Cloud Run runs services.
# The list grows: a region missing here is refused with this list's date; add it when Google does.
CLOUD_RUN_REGIONS = (
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-south2",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west10",
    "europe-west12",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-central2",
    "me-west1",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
)
CLOUD_RUN_REGIONS_CHECKED = "2026-12"
# cloud.google.com/run/docs/configuring/services/gpu (checked 2026-12): Cloud Run regions with
# NVIDIA L4 GPUs (asia-south1 by invitation). The GKE path has its own: G2 node availability.
CLOUD_RUN_GPU_REGIONS = {
    "nvidia-l4": (
        "asia-south1",
        "asia-southeast1",
        "europe-west1",
        "europe-west4",
        "us-central1",
        "us-east4",
    ),
}
# cloud.google.com/resource-manager/docs/creating-managing-projects (checked 2026-12): project IDs
# are 6-30 lowercase letters, digits or hyphens, a letter first, not ending in a hyphen; older
# projects may be domain-scoped ("example.com:my-project").
PROJECT_ID = re.compile(r"(?:[a-z0-9.-]+\.[a-z]{2,}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
PROJECT_ID_VALID = "a project ID: 6-30 lowercase letters, digits or '-', a letter first, not ending in '-'"
ZONE_NAME = re.compile(r"([a-z]+-[a-z]+[0-9]+)-[a-z]")  # a zone: its region, then "-a"
# Artifact Registry's Docker hosts: LOCATION-docker.pkg.dev (a region, or us/europe/asia).
ARTIFACT_REGISTRY_HOST = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-docker\.pkg\.dev")


def check_region(region: str) -> str | None:
    """None for a Cloud Run region as written; else what is valid (a zone names its region)."""
    if region in CLOUD_RUN_REGIONS:
        return None
    if zone := ZONE_NAME.fullmatch(region.lower()):
        return f"a region, not a zone: {zone.group(1)}"
    if region.lower() in CLOUD_RUN_REGIONS:
        return f"lowercase: {region.lower()}"
    near = difflib.get_close_matches(region.lower(), CLOUD_RUN_REGIONS, n=1)
    return (
        f"a Cloud Run region such as us-central1 (cloud.google.com/run/docs/locations, "
        f"{CLOUD_RUN_REGIONS_CHECKED}; one added since goes in infra/regions.py)"
        + (f" — did you mean {near[0]}?" if near else "")
    )


def check_project(project: str) -> str | None:
    if PROJECT_ID.fullmatch(project):
        return None
    if PROJECT_ID.fullmatch(project.lower()):
        return f"lowercase: {project.lower()}"
    return PROJECT_ID_VALID


def check_gpu_region(gpu: str, region: str) -> str | None:
    """None when Cloud Run has `gpu` in `region` (or the region is unknown: its own problem)."""
    regions = CLOUD_RUN_GPU_REGIONS.get(gpu, ())
    if region in regions or region not in CLOUD_RUN_REGIONS:
        return None
    return (
        f"empty in {region}: Cloud Run has {gpu} GPUs only in {', '.join(regions)} "
        "(set gcp:region to one of them, or leave gpu empty)"
    )


def artifact_registry_host(reference: str) -> str | None:
    """The Artifact Registry host of an image reference (LOCATION-docker.pkg.dev), else None.
    The only host the deploy may send the user's Google access token to."""
    host = reference.split("/", 1)[0]
    return host if ARTIFACT_REGISTRY_HOST.fullmatch(host) else None


def check_artifact_registry(reference: str) -> str | None:
    if artifact_registry_host(reference) and reference.count("/") >= 3:
        return None
    return (
        "an Artifact Registry image LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE[@sha256:…], or "
        "empty to build from service/ (for a Docker Hub image, mirror it with an Artifact Registry "
        "remote repository)"
    )
