"""Fault injection: 429 with Retry-After, 5xx, latency (before or after the work), dropped connections,
and faults *after* the write committed (Graph did the work, then answered 504 or lost the connection).

Rules come from configuration or `POST /_admin/faults` (a JSON list); each applies to requests whose
method and path match, for `times` requests (-1 = until cleared). `write_fault_profile` names the
profiles the write-count matrix runs (tests/integration/graph/test_write_counts.py, docs/BENCHMARKS.md).

Every response carries `request-id` and `client-request-id` headers, and every JSON error body an
`innerError` with `date`, `request-id` and `client-request-id`, throttled and 5xx answers included
(microsoftgraph/microsoft-graph-docs-contrib, concepts/errors.md, "Error resource type").
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

CODES = {429: "TooManyRequests", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
         412: "PreconditionFailed", 413: "MessageSizeTooBig", 403: "Forbidden"}
IDS_KEY: web.RequestKey[dict[str, str]] = web.RequestKey("devtenant.ids", dict)


@dataclass
class FaultRule:
    """One rule: what to do to matching requests, and how many more times.

    `commit`: let the real handler run first (the write happens), then answer `status` or `drop`.
    """

    path: str
    method: str = "*"
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    latency_after_ms: int = 0
    drop: bool = False
    times: int = -1
    commit: bool = False
    code: str | None = None
    message: str = "injected by the dev tenant"

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
    """A Graph-shaped error body; the middleware fills `innerError` with the request's ids and date."""
    body = {"error": {"code": code, "message": message, "innerError": {}}}
    return web.json_response(body, status=status, headers=headers)


def request_ids(request: web.Request) -> dict[str, str]:
    """This request's `request-id` (new) and `client-request-id` (the caller's, or new)."""
    ids: dict[str, str] | None = request.get(IDS_KEY)
    if ids is None:
        ids = {"request-id": str(uuid.uuid4()),
               "client-request-id": request.headers.get("client-request-id") or str(uuid.uuid4())}
        request[IDS_KEY] = ids
    return ids


def _stamped(response: web.StreamResponse, request: web.Request) -> web.StreamResponse:
    ids = request_ids(request)
    response.headers.update(ids)
    if response.status >= 400 and isinstance(response, web.Response) and response.content_type == "application/json":
        try:
            body = json.loads(response.body or b"{}")  # type: ignore[arg-type]
        except ValueError:
            return response
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("innerError") == {}:
            error["innerError"] = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), **ids}
            response.body = json.dumps(body).encode()
    return response


def _fault_response(rule: FaultRule) -> web.Response:
    status = rule.status or 500
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    return odata_error(status, rule.code or CODES.get(status, "InternalServerError"), rule.message, headers)


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


@web.middleware
async def fault_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Stamp ids on every answer; apply the first matching fault rule around the real handler."""
    from appliance_dev.devtenant.context import CONTEXT_KEY

    request_ids(request)
    rule = request.app[CONTEXT_KEY].faults.take(request) if not request.path.startswith("/_admin") else None
    if rule is None:
        return _stamped(await handler(request), request)
    if rule.latency_ms:
        await request.read()  # Graph has the whole request before it is slow: a client that dies now
        await asyncio.sleep(rule.latency_ms / 1000)  # does not stop the write from happening
    if rule.commit:
        await handler(request)  # the write is done; what follows is only the answer going wrong
    if rule.drop:
        _drop(request)
    if rule.status:
        return _stamped(_fault_response(rule), request)
    response = await handler(request)
    if rule.latency_after_ms:  # the work is done; only the answer is late (a crash now loses the reply)
        await asyncio.sleep(rule.latency_after_ms / 1000)
    return _stamped(response, request)


async def admin_faults(request: web.Request) -> web.Response:
    """POST a JSON list of rules (replaces all); DELETE clears them."""
    from appliance_dev.devtenant.context import CONTEXT_KEY

    rules = [] if request.method == "DELETE" else json.loads(await request.text() or "[]")
    request.app[CONTEXT_KEY].faults.set(rules)
    return web.json_response({"rules": len(rules)})


WRITE_FAULT_PROFILES = ("none", "throttled_429", "unavailable_503", "dropped_before_write", "commit_then_504",
                        "commit_then_drop", "slow_commit_past_timeout")
"""The fault profiles every write tool is run under; each says what Graph did with the write."""

WRITES_GRAPH_DID = {"none": 1, "throttled_429": 1, "unavailable_503": 0, "dropped_before_write": 0,
                    "commit_then_504": 1, "commit_then_drop": 1, "slow_commit_past_timeout": 1}
"""How many times the dev tenant performs the write under each profile when the client sends it at most once
more after a 429 (the only answer that proves Graph did not take the request)."""


def write_fault_profile(name: str, path: str, method: str, *, client_timeout_ms: int = 1000) -> list[dict[str, Any]]:
    """The fault rules of profile `name` for the write at `path` (a regex) and `method`, applied once."""
    once: dict[str, Any] = {"path": path, "method": method, "times": 1}
    profiles: dict[str, list[dict[str, Any]]] = {
        "none": [],
        "throttled_429": [{**once, "status": 429, "retry_after": 1}],
        "unavailable_503": [{**once, "status": 503}],
        "dropped_before_write": [{**once, "drop": True}],
        "commit_then_504": [{**once, "commit": True, "status": 504}],
        "commit_then_drop": [{**once, "commit": True, "drop": True}],
        "slow_commit_past_timeout": [{**once, "latency_ms": client_timeout_ms * 2}],
    }
    return profiles[name]
