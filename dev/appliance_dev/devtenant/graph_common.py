"""What every emulated Graph route shares: token and scope checks, request ids, $select, errors."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from aiohttp import web

from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext
from appliance_dev.devtenant.faults import odata_error

GRAPH = "https://graph.microsoft.com/v1.0"
Handler = Callable[[web.Request, DevTenantContext, dict[str, Any]], Awaitable[web.Response]]
WRITE_ALL = "Directory.ReadWrite.All"


def graph_route(*scopes: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.Response]]]:
    """Require a valid Graph token holding one of `scopes`; add `request-id`/`client-request-id`."""

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(handler)
        async def route(request: web.Request) -> web.Response:
            ctx = request.app[CONTEXT_KEY]
            ids = {
                "request-id": str(uuid.uuid4()),
                "client-request-id": request.headers.get("client-request-id", str(uuid.uuid4())),
            }
            header = request.headers.get("Authorization", "")
            try:
                claims = ctx.verify_access_token(header.removeprefix("Bearer "))
            except jwt.InvalidTokenError as exc:
                return _with(odata_error(401, "InvalidAuthenticationToken", f"Access token is invalid: {exc}"), ids)
            granted = set(claims.get("scp", "").split())
            if scopes and not granted & set(scopes):
                return _with(
                    odata_error(
                        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                    ),
                    ids,
                )
            try:
                response = await handler(request, ctx, claims)
            except FilterError as exc:
                response = bad_request(str(exc))
            return _with(response, ids)

        return route

    return decorate


def _with(response: web.Response, ids: dict[str, str]) -> web.Response:
    response.headers.update(ids)
    return response


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
    """An OData collection response, honouring `$top`."""
    top = int(request.query.get("$top", "100"))
    return web.json_response({"@odata.context": f"{GRAPH}/$metadata#{context}", "value": items[:top]})


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
    targets: list[dict[str, Any]], operation: str = "Update",
) -> None:
    """Every write: a directoryAudit by the caller, joined by the request's client-request-id; then persist."""
    actor = ctx.state.user(claims["oid"])
    assert actor is not None, "tokens are only issued to users in the directory"
    ctx.state.audit(activity, category, actor, targets, request.headers.get("client-request-id", ""), operation)
    ctx.state.save()
