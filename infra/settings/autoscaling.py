"""How the platform's autoscaler adds and removes instances: the `autoscaling` preset, Cloud Run's
scaling mode and Knative's per-revision autoscaling knobs.

Every knob defaults to "unset" (0, or Cloud Run's `automatic`): nothing is rendered and the
platform's own default holds. `autoscaling: steady` fills in, before parsing, the unset knobs the
platforms' docs recommend against churn under steady traffic (`preset`); the render shows each
as derived, and a key the stack sets wins. Each knob is refused in one line on the platform
that has no such thing. docs/cold-starts.md says which knob answers which part of a cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra import limits, scaling
from infra.settings.parse import RawConfig

PRESETS = ("default", "steady")
SCALING_MODES = tuple(scaling.SCALING_MODES)
# key -> (Knative annotation, the (low, high) Knative accepts); 0 leaves the key unset.
KNATIVE_KNOBS: dict[str, tuple[str, tuple[int, int]]] = {
    "knativeScaleDownDelaySeconds": ("scale-down-delay", scaling.KNATIVE_SCALE_DOWN_DELAY_SECONDS),
    "knativeWindowSeconds": ("window", scaling.KNATIVE_WINDOW_SECONDS),
    "knativePanicWindowPercentage": ("panic-window-percentage", scaling.KNATIVE_PANIC_WINDOW_PERCENTAGE),
    "knativePanicThresholdPercentage": (
        "panic-threshold-percentage",
        scaling.KNATIVE_PANIC_THRESHOLD_PERCENTAGE,
    ),
    "knativeTargetUtilizationPercentage": (
        "target-utilization-percentage",
        scaling.KNATIVE_TARGET_UTILIZATION_PERCENTAGE,
    ),
    "knativeActivationScale": (
        "activation-scale",
        (scaling.KNATIVE_ACTIVATION_SCALE_MIN, limits.MAX_INSTANCES_CEILING),
    ),
}
DURATION_KNOBS = ("knativeScaleDownDelaySeconds", "knativeWindowSeconds")  # rendered as "<n>s"
UNSET = "0"
# What `steady` sets where the stack left the key unset, by platform (docs/cold-starts.md says
# why: Cloud Run keeps idle instances up to 15 minutes on its own and offers min instances
# against the cold start; Knative removes pods as soon as the 60 s average allows, and its docs
# offer scale-down-delay against exactly that, with "15m" as their example).
STEADY: dict[str, dict[str, str]] = {
    "cloudrun": {"minInstances": "1"},
    "knative": {"knativeScaleDownDelaySeconds": "900", "knativeWindowSeconds": "180"},
}


@dataclass(frozen=True)
class AutoscalingSettings:
    preset: str = "default"
    scaling_mode: str = "automatic"  # Cloud Run; a key of scaling.SCALING_MODES
    manual_instances: int = 0  # Cloud Run with scaling_mode manual
    # Knative annotation name (without its prefix) -> value, only the knobs the stack set.
    knative_annotations: tuple[tuple[str, str], ...] = ()

    @property
    def manual(self) -> bool:
        return self.scaling_mode == "manual"


def preset(raw: Mapping[str, str]) -> dict[str, str]:
    """The values `autoscaling: steady` fills in for `raw`'s platform, where `raw` left them unset."""
    if str(raw.get("autoscaling", "")).strip() != "steady":
        return {}
    platform = str(raw.get("platform", "")).strip()
    return {
        key: value
        for key, value in STEADY.get(platform, {}).items()
        if str(raw.get(key, UNSET)).strip() == UNSET
    }


def autoscaling_settings(
    r: RawConfig, platform: str, min_instances: int, max_instances: int
) -> AutoscalingSettings:
    """Parse the preset, the scaling mode and the Knative knobs; refuse each where it does not apply."""
    annotations: list[tuple[str, str]] = []
    for key, (annotation, (low, high)) in KNATIVE_KNOBS.items():
        value = r.integer(key, 0, high)
        if value and value < low:
            r.fail(key, value, f"0 (Knative's default) or a whole number {low}…{high}")
        elif value and platform != "knative":
            r.fail(key, value, f"0 on {platform}: {annotation} is a Knative autoscaler setting")
        elif value:
            annotations.append((annotation, f"{value}s" if key in DURATION_KNOBS else str(value)))
    settings = AutoscalingSettings(
        preset=r.choice("autoscaling", PRESETS),
        scaling_mode=r.choice("scalingMode", SCALING_MODES),
        manual_instances=r.integer("manualInstances", 0, limits.MAX_INSTANCES_CEILING),
        knative_annotations=tuple(annotations),
    )
    _check_scaling_mode(r, settings, platform)
    activation = dict(annotations).get("activation-scale")
    if activation and not min_instances <= int(activation) <= max_instances:
        r.fail(
            "knativeActivationScale",
            int(activation),
            f"0 or {max(min_instances, scaling.KNATIVE_ACTIVATION_SCALE_MIN)}…{max_instances}: "
            "between minInstances and maxInstances",
        )
    return settings


def _check_scaling_mode(r: RawConfig, settings: AutoscalingSettings, platform: str) -> None:
    if settings.manual and platform != "cloudrun":
        r.fail(
            "scalingMode",
            settings.scaling_mode,
            f"automatic on {platform}: Knative has no fixed instance count (minInstances = "
            "maxInstances pins the pods instead)",
        )
    elif settings.manual and settings.manual_instances < 1:
        r.fail("manualInstances", settings.manual_instances, "at least 1 with scalingMode manual")
    elif not settings.manual and settings.manual_instances:
        r.fail("manualInstances", settings.manual_instances, "0 unless scalingMode is manual (Cloud Run)")
