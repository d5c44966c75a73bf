"""Prometheus metrics of a running appliance (`/metrics`, through the official `prometheus-client`).

`ApplianceMetrics` owns one `CollectorRegistry` (never the process-global one). Counters and latency
histograms are fed by the operational log (`OpsMetricsHandler` listens to `ops_log` events), so no room
of the appliance imports this one; gauges (pending actions, the audit chain, the Aid's token, upkeep)
are set by the wiring. Label values come only from closed sets (tool names of the catalog, gate reason
codes, outcomes, HTTP status codes): no person, address, id or free text can ever become a label.
"""

from appliance.metrics.events import OpsMetricsHandler
from appliance.metrics.registry import ApplianceMetrics
from appliance.metrics.server import MetricsServer

__all__ = ["ApplianceMetrics", "MetricsServer", "OpsMetricsHandler"]
