"""Executors for group tools. Role-assignable groups are refused; "already a member" (400) and "not a member"
(404) count as done: Graph answered, the group is as asked. Each write is sent at most once (gateway.py)."""

from __future__ import annotations

from typing import Any

from msgraph.generated.models.reference_create import ReferenceCreate

from appliance.graph.executors.common import Refused, done, get_group_by_mail, get_user
from appliance.graph.gateway import ExecutionResult, GraphCallFailed, GraphGateway
from appliance.graph.paging import every_page

ALREADY_MEMBER = "added object references already exist"


async def group_members(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    group = await get_group_by_mail(gw, args["group"], crid)
    pages = await every_page(gw, crid, gw.client.groups.by_group_id(group.id).members)
    members = [str(getattr(m, "user_principal_name", None) or getattr(m, "mail", None) or m.id) for m in pages.items]
    count = f"{len(members)}" if pages.complete else f"at least {len(members)} (I stopped after {pages.pages} pages)"
    return done(
        gw,
        "m365_group_members",
        crid,
        {"count": len(members), "complete": pages.complete, "members": members[:25]},
        f"{args['group']} has {count} members: " + ", ".join(members[:25]),
    )


async def _writable_group(gw: GraphGateway, mail: str, crid: str) -> Any:
    group = await get_group_by_mail(gw, mail, crid)
    if group.is_assignable_to_role:
        raise Refused(f"{mail} can carry administrator roles; the Aid does not change its membership.")
    return group


async def group_add_member(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    group = await _writable_group(gw, args["group"], crid)
    user = await get_user(gw, args["user"], crid)
    body = ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{user.id}")
    try:
        await gw.call(
            crid,
            lambda c: gw.client.groups.by_group_id(group.id).members.ref.post(body, request_configuration=c),
            write=True,
        )
    except GraphCallFailed as exc:
        if not (exc.status == 400 and ALREADY_MEMBER in exc.message):
            raise
        return done(
            gw,
            "m365_group_add_member",
            crid,
            {"alreadyMember": True},
            f"{args['user']} was already a member of {args['group']}.",
        )
    return done(gw, "m365_group_add_member", crid, {"added": True}, f"Added {args['user']} to {args['group']}.")


async def group_remove_member(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    group = await _writable_group(gw, args["group"], crid)
    user = await get_user(gw, args["user"], crid)
    try:
        await gw.call(
            crid,
            lambda c: (
                gw.client.groups.by_group_id(group.id)
                .members.by_directory_object_id(user.id)
                .ref.delete(request_configuration=c)
            ),
            write=True,
        )
    except GraphCallFailed as exc:
        if exc.status != 404:
            raise
        return done(
            gw,
            "m365_group_remove_member",
            crid,
            {"wasMember": False},
            f"{args['user']} was not a member of {args['group']}.",
        )
    return done(
        gw, "m365_group_remove_member", crid, {"removed": True}, f"Removed {args['user']} from {args['group']}."
    )
