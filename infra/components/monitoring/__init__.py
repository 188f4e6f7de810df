"""Observability declared with the service: see component.py (resources) and the pure builders."""

from infra.components.monitoring.component import ServiceMonitoring, ServiceMonitoringArgs

__all__ = ["ServiceMonitoring", "ServiceMonitoringArgs"]
