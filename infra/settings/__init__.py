"""Typed, validated stack settings; the only package that reads `pulumi.Config`.

Keys and defaults live in one place, the `config:` schema of Pulumi.yaml (the CLI applies the
defaults; the offline render applies them the same way). `schema` declares the settings and
their choices, `parse` turns raw strings into values, `derive` fills what the stack left unset,
`checks` cross-checks them against `infra.limits`, `build` assembles them, `reader` gets the raw
strings (from Pulumi, or from the stack files via `stack_files`). A bad stack fails before any
resource is declared, one line per problem naming the key, the value and what would be valid.
"""

from infra.settings.build import build_settings
from infra.settings.derive import shown as derived_values
from infra.settings.reader import settings_from_config, settings_from_pulumi, settings_from_stack_files
from infra.settings.schema import (
    BUILDERS,
    CONFIG_KEYS,
    EXECUTION_ENVIRONMENTS,
    INGRESS,
    KNATIVE_INGRESSES,
    LOG_LEVELS,
    MAGIC_DNS_DOMAINS,
    PLATFORMS,
    PRECISIONS,
    RELEASE_CHANNELS,
    RUNTIMES,
    SUPPORTED,
    AccessSettings,
    GkeSettings,
    ImageSettings,
    KnativeSettings,
    ModelSettings,
    MonitoringSettings,
    RolloutSettings,
    ServiceSettings,
    Settings,
    SettingsError,
    label_value,
)
from infra.settings.stack_files import StackConfig, StackConfigError, parse_overrides

__all__ = [
    "BUILDERS",
    "CONFIG_KEYS",
    "EXECUTION_ENVIRONMENTS",
    "INGRESS",
    "KNATIVE_INGRESSES",
    "LOG_LEVELS",
    "MAGIC_DNS_DOMAINS",
    "PLATFORMS",
    "PRECISIONS",
    "RELEASE_CHANNELS",
    "RUNTIMES",
    "SUPPORTED",
    "AccessSettings",
    "GkeSettings",
    "ImageSettings",
    "KnativeSettings",
    "ModelSettings",
    "MonitoringSettings",
    "RolloutSettings",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "StackConfig",
    "StackConfigError",
    "build_settings",
    "derived_values",
    "label_value",
    "parse_overrides",
    "settings_from_config",
    "settings_from_pulumi",
    "settings_from_stack_files",
]
