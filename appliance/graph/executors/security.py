"""Executors for security reads: MFA methods and recent sign-ins (counts and outcomes, no bulk data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from msgraph.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder

from appliance.graph.executors.common import done, get_user, items
from appliance.graph.gateway import ExecutionResult, GraphGateway
from appliance.graph.paging import every_page


async def mfa_methods_list(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    page = await gw.call(
        crid,
        lambda c: gw.client.users.by_user_id(user.id).authentication.methods.get(request_configuration=c),
    )
    kinds = sorted({(m.odata_type or "").rsplit(".", 1)[-1].replace("AuthenticationMethod", "") for m in items(page)})
    return done(
        gw,
        "m365_mfa_methods_list",
        crid,
        {"methods": kinds},
        f"{args['user']} has registered: {', '.join(kinds) or 'no methods'}.",
    )


async def signins_recent(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    since = (datetime.now(UTC) - timedelta(days=int(args["days"]))).strftime("%Y-%m-%dT%H:%M:%SZ")
    upn = args["user"].replace("'", "''")
    query = SignInsRequestBuilder.SignInsRequestBuilderGetQueryParameters(
        filter=f"userPrincipalName eq '{upn}' and createdDateTime ge {since}", top=50
    )
    pages = await every_page(gw, crid, gw.client.audit_logs.sign_ins, query=query, max_pages=20)
    entries = pages.items
    failed = sum(1 for e in entries if e.status and e.status.error_code)
    last = max((e.created_date_time for e in entries if e.created_date_time), default=None)
    counted = f"{len(entries)}" if pages.complete else f"at least {len(entries)} (I stopped after {pages.pages} pages)"
    return done(
        gw,
        "m365_signins_recent",
        crid,
        {"signIns": len(entries), "failed": failed, "complete": pages.complete,
         "last": last.isoformat() if last else None},
        f"{args['user']}: {counted} sign-ins in {args['days']} days, {failed} failed.",
    )
