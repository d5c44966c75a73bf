"""Executors for license tools: list subscriptions, assign and remove a license (assignLicense)."""

from __future__ import annotations

from typing import Any

from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
    AssignLicensePostRequestBody,
)

from appliance.graph.executors.common import done, get_user, items
from appliance.graph.gateway import ExecutionResult, GraphCallFailed, GraphGateway


async def _skus(gw: GraphGateway, crid: str) -> list[Any]:
    page = await gw.call(crid, lambda c: gw.client.subscribed_skus.get(request_configuration=c))
    return items(page)


async def license_list(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    rows = [
        {"sku": s.sku_part_number, "total": s.prepaid_units.enabled if s.prepaid_units else 0, "used": s.consumed_units}
        for s in await _skus(gw, crid)
    ]
    text = "; ".join(f"{r['sku']}: {r['used']} of {r['total']} used" for r in rows)
    return done(gw, "m365_license_list", crid, {"skus": rows}, f"Licenses: {text}.")


async def _sku_id(gw: GraphGateway, part_number: str, crid: str) -> Any:
    for sku in await _skus(gw, crid):
        if sku.sku_part_number == part_number:
            return sku.sku_id
    raise GraphCallFailed(404, "UnknownSku", f"the tenant has no subscription {part_number}", None)


async def _assign(gw: GraphGateway, args: dict[str, Any], crid: str, *, add: bool) -> None:
    user = await get_user(gw, args["user"], crid)
    sku_id = await _sku_id(gw, args["sku"], crid)
    body = AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=sku_id, disabled_plans=[])] if add else [],
        remove_licenses=[] if add else [sku_id],
    )
    # A write: sent at most once (see gateway.py); a lost answer is settled from the audit log.
    await gw.call(
        crid,
        lambda c: gw.client.users.by_user_id(user.id).assign_license.post(body, request_configuration=c),
        write=True,
    )


async def license_assign(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    await _assign(gw, args, crid, add=True)
    return done(
        gw, "m365_license_assign", crid, {"assigned": args["sku"]}, f"Assigned {args['sku']} to {args['user']}."
    )


async def license_remove(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    await _assign(gw, args, crid, add=False)
    return done(
        gw, "m365_license_remove", crid, {"removed": args["sku"]}, f"Removed {args['sku']} from {args['user']}."
    )
