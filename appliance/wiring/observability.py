"""Metrics for a running service: the registry fed by the ops log, the gauges, the `/metrics` listener,
and a watch task that verifies the audit chain and reads the Aid's token expiry on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance import ops_log
from appliance.catalog import Catalog
from appliance.config import Settings
from appliance.metrics import ApplianceMetrics, MetricsServer, OpsMetricsHandler
from appliance.store import TenantStore, audit_records
from appliance.store.state_counts import executing_ids, open_action_counts

DEV_METRICS_PORT = 0  # dev and tests: any free port (the URL is printed), so stacks never collide
TOKEN_CHECK_SECONDS = 60.0


@dataclass
class Observability:
    """What `start_metrics` started; `stop()` undoes it."""

    metrics: ApplianceMetrics
    handler: OpsMetricsHandler
    server: MetricsServer | None
    url: str | None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Stop the watch task and the listener, and detach from the ops log."""
        for task in self.tasks:
            task.cancel()
        if self.server is not None:
            await self.server.stop()
        self.handler.detach()


def metrics_port(settings: Settings) -> int:
    """The `/metrics` port: `[metrics] port`, default 9464 (dev: any free port; 0 always means that)."""
    configured = settings.metrics.port
    if configured is None:
        return DEV_METRICS_PORT if settings.graph.dev else 9464
    return configured


async def start_metrics(
    settings: Settings, store: TenantStore, catalog: Catalog, running: Callable[[], set[str]]
) -> Observability:
    """Attach the metrics to the ops log and serve them (unless `[metrics] enabled = false`).

    `running()` gives the ids of actions whose Graph call this process is making right now: every other
    EXECUTING action has an unknown outcome until upkeep settles it.
    """
    metrics = ApplianceMetrics(list(catalog))
    handler = OpsMetricsHandler(metrics).attach()

    async def refresh() -> None:
        counts = await store.arun(open_action_counts)
        executing = await store.arun(executing_ids)
        metrics.set_pending(counts, unknown=len(set(executing) - running()))

    observability = Observability(metrics, handler, None, None)
    if not settings.metrics.enabled:
        return observability
    host = settings.metrics.host or settings.teams.host
    server = MetricsServer(metrics, refresh, host, metrics_port(settings))
    observability.server, observability.url = server, await server.start()
    return observability


async def watch(observability: Observability, store: TenantStore, settings: Settings,
                claims: Callable[[], dict[str, Any]]) -> None:
    """Forever: read the Aid's token expiry every minute; verify the audit chain every
    `[metrics] audit_check_minutes` (and once at start). Never dies; failures show in the gauges."""
    metrics = observability.metrics
    last_chain = -float("inf")
    while True:
        try:
            token = await asyncio.to_thread(claims)
            metrics.set_token(True, float(token["exp"]) if "exp" in token else None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.set_token(False, None)
            with contextlib.suppress(Exception):
                ops_log.event("token.check_failed", error=type(exc).__name__)
        if time.monotonic() - last_chain >= settings.metrics.audit_check_minutes * 60:
            with contextlib.suppress(Exception):
                report = await store.arun(audit_records.verify)
                metrics.set_audit_chain(report.ok, await store.arun(audit_records.count), time.time())
                last_chain = time.monotonic()
                if not report.ok:
                    ops_log.event("audit.chain_broken", count=report.checked)
        await asyncio.sleep(TOKEN_CHECK_SECONDS)
