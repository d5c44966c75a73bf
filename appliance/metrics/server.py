"""`MetricsServer`: `GET /metrics` on its own listener, apart from the Teams endpoint.

A separate port keeps the scrape surface off the Ingress that carries `/api/messages`: the Bot Service
never reaches it, and the NetworkPolicy lets only the monitoring namespace in (deploy/kubernetes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from appliance import ops_log
from appliance.metrics.registry import ApplianceMetrics

Refresh = Callable[[], Awaitable[None]]


class MetricsServer:
    """Serves `metrics` at `http://host:port/metrics`; `refresh()` runs before each scrape (gauges)."""

    def __init__(self, metrics: ApplianceMetrics, refresh: Refresh, host: str, port: int) -> None:
        self.metrics, self.refresh, self.host, self.port = metrics, refresh, host, port
        self._runner: web.AppRunner | None = None

    async def _scrape(self, request: web.Request) -> web.Response:
        try:
            await self.refresh()
        except Exception as exc:  # stale gauges beat no metrics at all; the counters are still right
            ops_log.event("metrics.refresh_failed", error=type(exc).__name__)
        body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> str:
        """Listen; returns the URL. Port 0 picks a free port."""
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return f"http://{self.host}:{self.port}/metrics"

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
            self._runner = None
