"""What every emulated Graph route shares: token and scope checks, $select, $filter, paging, errors.

Request ids and `innerError` are stamped on every answer by `faults.fault_middleware`.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web

from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext
from appliance_dev.devtenant.faults import odata_error

GRAPH = "https://graph.microsoft.com/v1.0"
Handler = Callable[[web.Request, DevTenantContext, dict[str, Any]], Awaitable[web.Response]]
WRITE_ALL = "Directory.ReadWrite.All"


def graph_route(
    *scopes: str, all_of: tuple[str, ...] = ()
) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.Response]]]:
    """Require a valid Graph token holding one of `scopes` (and every scope in `all_of`).

    Every non-GET request that passes the token check is logged in `ctx.writes` (tests count writes)."""

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(handler)
        async def route(request: web.Request) -> web.Response:
            ctx = request.app[CONTEXT_KEY]
            header = request.headers.get("Authorization", "")
            try:
                claims = ctx.verify_access_token(header.removeprefix("Bearer "))
            except jwt.InvalidTokenError as exc:
                return odata_error(401, "InvalidAuthenticationToken", f"Access token is invalid: {exc}")
            granted = set(claims.get("scp", "").split())
            if (scopes and not granted & set(scopes)) or not set(all_of) <= granted:
                return denied()
            if request.method != "GET":
                ctx.writes.append({"method": request.method, "path": request.path,
                                   "client-request-id": request.headers.get("client-request-id", "")})
            try:
                return await handler(request, ctx, claims)
            except FilterError as exc:
                return bad_request(str(exc))

        return route

    return decorate


def denied() -> web.Response:
    """Graph's 403 for a caller whose scopes or roles do not allow the operation."""
    return odata_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def not_found(what: str, key: str) -> web.Response:
    """Graph's 404 for a directory object."""
    return odata_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are not present. ({what})",
    )


def bad_request(message: str, code: str = "Request_BadRequest") -> web.Response:
    """Graph's 400."""
    return odata_error(400, code, message)


def select(obj: dict[str, Any], request: web.Request, default: tuple[str, ...]) -> dict[str, Any]:
    """Apply `$select` (or the default property set), as Graph does."""
    wanted = request.query.get("$select")
    keys = [k.strip() for k in wanted.split(",")] if wanted else list(default)
    return {k: obj.get(k) for k in ["id", *keys] if k in obj or k == "id"}


def collection(request: web.Request, items: list[dict[str, Any]], context: str) -> web.Response:
    """One page of an OData collection, with `@odata.nextLink` when more follow.

    Graph pages collections server-side: a page holds at most `$top` (or the default page size) items and
    `@odata.nextLink` is the URL of the next page, to be used as it is (microsoftgraph/microsoft-graph-docs-contrib,
    concepts/paging.md). The dev tenant's page size is `ctx.page_size` (tests make it small)."""
    ctx = request.app[CONTEXT_KEY]
    try:
        size = min(int(request.query.get("$top", ctx.page_size)), ctx.page_size)
        start = int(request.query.get("$skiptoken", "0"))
    except ValueError:
        raise FilterError("Invalid $top or $skiptoken") from None
    size = max(size, 1)
    body: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#{context}", "value": items[start : start + size]}
    if start + size < len(items):
        query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
        query["$skiptoken"] = str(start + size)
        body["@odata.nextLink"] = f"{GRAPH}{request.path.removeprefix('/v1.0')}?{urlencode(query)}"
    return web.json_response(body)


class FilterError(ValueError):
    """A `$filter` the dev tenant does not understand (Graph answers 400, and so do we)."""


_EQ = re.compile(r"^\s*(\w+)\s+eq\s+'([^']*)'\s*$")
_STARTS = re.compile(r"^\s*startswith\((\w+),\s*'([^']*)'\)\s*$")


def parse_filter(expression: str) -> list[tuple[str, str, str]]:
    """`a eq 'x' and startswith(b,'y')` -> [("eq", "a", "x"), ("startswith", "b", "y")]; `or` too."""
    clauses = []
    for part in re.split(r"\s+(?:and|or)\s+", expression):
        if match := _EQ.match(part):
            clauses.append(("eq", match.group(1), match.group(2)))
        elif match := _STARTS.match(part):
            clauses.append(("startswith", match.group(1), match.group(2)))
        elif re.match(r"^\s*createdDateTime\s+ge\s+\S+\s*$", part):
            clauses.append(("ge", "createdDateTime", part.split()[-1]))
        else:
            raise FilterError(f"Invalid filter clause: {part.strip()}")
    return clauses


def record_write(
    request: web.Request, ctx: DevTenantContext, claims: dict[str, Any], activity: str, category: str,
    targets: list[dict[str, Any]], operation: str = "Update", failure: str | None = None,
) -> None:
    """Every write the directory acted on, done or refused by a directory rule: a directoryAudit entry by the
    caller (`result` success, or failure with `failure` as its reason), correlated by the request's
    client-request-id; then persist. The entry becomes readable after `ctx.audit_latency`."""
    actor = ctx.state.user(claims["oid"])
    assert actor is not None, "tokens are only issued to users in the directory"
    echoed = request.headers.get("client-request-id", "") if ctx.correlation_is_client_request_id else ""
    ctx.state.audit(activity, category, actor, targets, echoed or str(uuid.uuid4()), operation,
                    moment=ctx.clock.now(), visible_after=ctx.audit_latency.sample(), failure=failure)
    ctx.state.save()
