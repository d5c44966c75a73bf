"""`AuditApi`: the HTTP surface of the audit records for reviewers (aiohttp routes).

- `GET /api/audit/records?since=&until=&requester=&tool=&outcome=&after=&limit=` answers JSON Lines
  (`application/x-ndjson`), oldest first, one record per line with its `Seq`. When more records match,
  the `Link` header (`rel="next"`) and `X-Next-After` give the cursor of the next page. `since`/`until`
  are ISO-8601 times (UTC if no offset); `requester` a UPN (any case); `outcome` one of the record
  outcomes; `limit` 1..[audit_api] max_page.
- `GET /api/audit/verify` answers the chain check as JSON: `{"ok", "checked", "first_broken", "reason"}`.

Every request needs `Authorization: Bearer <Entra access token>` with the configured app role (401
without a valid token of the tenant, 403 without the role). Bad parameters get 400 naming the parameter.
Each call is written to the ops log (who by pseudonymised id, never what came back).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

from appliance import ops_log
from appliance.audit.filters import RecordFilter
from appliance.identity import EntraPrincipal, EntraTokenValidator, TokenRejected

OUTCOMES = frozenset({"Success", "Failure", "Refused", "Unknown", "Cancelled", "Expired"})
NDJSON = "application/x-ndjson"


class AuditSource(Protocol):
    """Where the records come from (the wiring binds it to the encrypted store)."""

    async def page(self, query: RecordFilter) -> tuple[list[dict[str, Any]], int | None]:
        """Matching records after `query.after`, oldest first, and the next cursor (None on the last page)."""
        ...

    async def verify(self) -> dict[str, Any]:
        """The audit chain check: ok, checked, first_broken, reason."""
        ...


class BadParameter(ValueError):
    """A query parameter that cannot be used (400)."""


def _time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(f"`{name}` must be an ISO-8601 time such as 2026-05-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadParameter(f"`{name}` must be a whole number from {low} to {high}")
    return int(text)


def _text(name: str, text: str | None, limit: int = 320) -> str | None:
    if text is None:
        return None
    if not text or len(text) > limit or any(ord(ch) < 32 for ch in text):
        raise BadParameter(f"`{name}` must be 1 to {limit} printable characters")
    return text


def parse_query(params: Any, max_page: int) -> RecordFilter:
    """A `RecordFilter` from request parameters; BadParameter names what is wrong."""
    known = {"since", "until", "requester", "tool", "outcome", "after", "limit"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadParameter(f"unknown parameter `{unknown[0]}` (known: {', '.join(sorted(known))})")
    outcome = _text("outcome", params.get("outcome"), 20)
    if outcome is not None and outcome not in OUTCOMES:
        raise BadParameter(f"`outcome` must be one of {', '.join(sorted(OUTCOMES))}")
    return RecordFilter(
        since=_time("since", params.get("since")), until=_time("until", params.get("until")),
        requester=_text("requester", params.get("requester")), tool=_text("tool", params.get("tool"), 100),
        outcome=outcome, after=_int("after", params.get("after"), 0, 0, 2**62),
        limit=_int("limit", params.get("limit"), min(100, max_page), 1, max_page),
    )


def _problem(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


class AuditApi:
    """The two routes, behind `validator`."""

    def __init__(self, validator: EntraTokenValidator, source: AuditSource, max_page: int = 1000) -> None:
        self.validator, self.source, self.max_page = validator, source, max_page

    def add_routes(self, app: web.Application) -> None:
        """Mount `GET /api/audit/records` and `GET /api/audit/verify`."""
        app.router.add_get("/api/audit/records", self._guarded(self.records))
        app.router.add_get("/api/audit/verify", self._guarded(self.verify))

    def _guarded(self, handler: Callable[[web.Request, EntraPrincipal], Awaitable[web.Response]]) -> Any:
        async def guarded(request: web.Request) -> web.Response:
            try:
                principal = await self.validator.validate(request.headers.get("Authorization"))
            except TokenRejected as rejected:
                ops_log.event("audit_api.refused", status=rejected.status, reason=rejected.reason)
                headers = {"WWW-Authenticate": rejected.www_authenticate} if rejected.status == 401 else None
                return _problem(rejected.status, rejected.reason, rejected.message, headers)
            try:
                response = await handler(request, principal)
            except BadParameter as bad:
                return _problem(400, "bad_parameter", str(bad))
            ops_log.event("audit_api.served", route=request.path, status=response.status, person=principal.object_id,
                          kind=principal.kind)
            return response

        return guarded

    async def records(self, request: web.Request, principal: EntraPrincipal) -> web.Response:
        """One page of records as JSON Lines."""
        query = parse_query(request.query, self.max_page)
        records, following = await self.source.page(query)
        body = "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records)
        headers = {"X-Record-Count": str(len(records))}
        if following is not None:
            params = {k: v for k, v in request.query.items() if k != "after"}
            params["after"] = str(following)
            headers["X-Next-After"] = str(following)
            headers["Link"] = f'<{request.path}?{urlencode(params)}>; rel="next"'
        return web.Response(body=body.encode("utf-8"), content_type=NDJSON, charset="utf-8", headers=headers)

    async def verify(self, request: web.Request, principal: EntraPrincipal) -> web.Response:
        """The audit chain check."""
        if request.query:
            raise BadParameter("`/api/audit/verify` takes no parameters")
        return web.json_response(await self.source.verify())
