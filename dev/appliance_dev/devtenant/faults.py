"""Fault injection: 429 with Retry-After, 503, latency (before or after the work), dropped connections.

Rules come from configuration or `POST /_admin/faults` (a JSON list); each applies to requests whose
method and path match, for `times` requests (-1 = until cleared).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class FaultRule:
    """One rule: what to do to matching requests, and how many more times."""

    path: str
    method: str = "*"
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    latency_after_ms: int = 0
    drop: bool = False
    times: int = -1

    def matches(self, request: web.Request) -> bool:
        return (self.method in ("*", request.method)) and re.search(self.path, request.path) is not None


class FaultRules:
    """The active rules (thread-safe: tests change them from another thread)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self.applied = 0

    def set(self, rules: list[dict[str, Any]]) -> None:
        """Replace every rule."""
        with self._lock:
            self._rules = [FaultRule(**rule) for rule in rules]

    def take(self, request: web.Request) -> FaultRule | None:
        """The first matching rule (its count decremented), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.times != 0 and rule.matches(request):
                    if rule.times > 0:
                        rule.times -= 1
                    self.applied += 1
                    return rule
        return None


def odata_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A Graph-shaped error body."""
    body = {"error": {"code": code, "message": message, "innerError": {}}}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def fault_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Apply the first matching fault rule before the real handler runs."""
    from appliance_dev.devtenant.context import CONTEXT_KEY

    rule = request.app[CONTEXT_KEY].faults.take(request) if not request.path.startswith("/_admin") else None
    if rule is None:
        return await handler(request)
    if rule.latency_ms:
        await request.read()  # Graph has the whole request before it is slow: a client that dies now
        await asyncio.sleep(rule.latency_ms / 1000)  # does not stop the write from happening
    if rule.drop:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if rule.status:
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        code = "TooManyRequests" if rule.status == 429 else "ServiceUnavailable"
        return odata_error(rule.status, code, "injected by the dev tenant", headers)
    response = await handler(request)
    if rule.latency_after_ms:  # the work is done; only the answer is late (a crash now loses the reply)
        await asyncio.sleep(rule.latency_after_ms / 1000)
    return response


async def admin_faults(request: web.Request) -> web.Response:
    """POST a JSON list of rules (replaces all); DELETE clears them."""
    from appliance_dev.devtenant.context import CONTEXT_KEY

    rules = [] if request.method == "DELETE" else json.loads(await request.text() or "[]")
    request.app[CONTEXT_KEY].faults.set(rules)
    return web.json_response({"rules": len(rules)})
