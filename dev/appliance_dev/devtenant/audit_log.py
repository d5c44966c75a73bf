"""Graph v1.0 `GET /auditLogs/directoryAudits`: the tenant's directory audit log as the Aid reads it.

What Microsoft documents and the dev tenant does (microsoftgraph/microsoft-graph-docs-contrib):
- api-reference/v1.0/api/directoryaudit-list.md: delegated callers need AuditLog.Read.All *and*
  Directory.Read.All (the page's permission include names both); `$filter` on activityDisplayName,
  activityDateTime (ge/le), correlationId, initiatedBy/user/id, result and
  `targetResources/any(t: t/id eq '...')`; an unfiltered list returns entries, newest first, in pages.
- api-reference/v1.0/resources/directoryaudit.md: `result` is success or failure (`resultReason` says why).
- Entries are late: 95% within 2 min, 99% within 5 min (see `clock.py`); an entry is listed only once
  the tenant's clock has passed its `_visibleAt`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.graph_common import FilterError, collection, graph_route

_EQ = re.compile(r"^(correlationId|activityDisplayName|result|category|initiatedBy/user/id|"
                 r"initiatedBy/user/userPrincipalName)\s+eq\s+'((?:[^']|'')*)'$")
_TIME = re.compile(r"^activityDateTime\s+(ge|le|gt|lt)\s+(\S+)$")
_TARGET = re.compile(r"^targetResources/any\((\w+):\s*\1/id\s+eq\s+'([^']*)'\)$")


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"Invalid DateTimeOffset value: {text}") from None


def _path(entry: dict[str, Any], path: str) -> str:
    value: Any = entry
    for part in path.split("/"):
        value = (value or {}).get(part) if isinstance(value, dict) else None
    return str(value or "")


def audit_filter(expression: str) -> list[Any]:
    """`a eq 'x' and activityDateTime ge ... and targetResources/any(t: t/id eq '...')` -> predicates."""
    predicates: list[Any] = []
    for part in re.split(r"\s+and\s+", expression.strip()):
        part = part.strip()
        if match := _EQ.match(part):
            field, value = match.group(1), match.group(2).replace("''", "'")
            predicates.append(lambda e, f=field, v=value: _path(e, f).lower() == v.lower())
        elif match := _TIME.match(part):
            op, moment = match.group(1), _time(match.group(2))
            compare = {"ge": lambda a, b: a >= b, "le": lambda a, b: a <= b,
                       "gt": lambda a, b: a > b, "lt": lambda a, b: a < b}[op]
            predicates.append(lambda e, c=compare, m=moment: c(_time(e["activityDateTime"]), m))
        elif match := _TARGET.match(part):
            wanted = match.group(2).lower()
            predicates.append(lambda e, w=wanted: any(str(t.get("id", "")).lower() == w for t in e["targetResources"]))
        else:
            raise FilterError(f"Invalid filter clause: {part}")
    return predicates


def visible_entries(ctx: DevTenantContext) -> list[dict[str, Any]]:
    """Entries readable now (their reporting delay has passed on the tenant's clock), newest first."""
    now = ctx.clock.now()
    with ctx.state.lock:
        entries = [e for e in ctx.state.data["directoryAudits"]
                   if _time(e.get("_visibleAt") or e["activityDateTime"]) <= now]
    shown = [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]
    return sorted(shown, key=lambda e: e["activityDateTime"], reverse=True)


@graph_route("AuditLog.Read.All", all_of=("AuditLog.Read.All", "Directory.Read.All"))
async def directory_audits(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    predicates = audit_filter(request.query["$filter"]) if request.query.get("$filter") else []
    items = [e for e in visible_entries(ctx) if all(p(e) for p in predicates)]
    return collection(request, items, "auditLogs/directoryAudits")


def add_routes(app: web.Application) -> None:
    """Mount the directory audit log."""
    app.router.add_get("/v1.0/auditLogs/directoryAudits", directory_audits)
