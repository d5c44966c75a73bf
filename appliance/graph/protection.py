"""Who the Aid never acts on, checked before any confirmation card is shown (and again at execution).

Entra itself refuses sensitive actions (disable/enable, password reset) by a User or Helpdesk
Administrator on privileged users: anyone holding a privileged role, and members or owners of
role-assignable groups (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources/users.md,
"Who can reset passwords?" / "Who can update sensitive attributes?"). The appliance refuses more, and
earlier, so a person never confirms a card Graph will refuse: a target that holds any directory role
(directly or through a group: `transitiveMemberOf`, every page), is a member or owner of a
role-assignable group, or is eligible for a role through PIM (`roleEligibilityScheduleInstances`, an
eligible role can be activated at any moment). Membership of a role-assignable group is never changed.
A check that cannot read the whole set refuses (it never guesses "not privileged").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgraph.generated.role_management.directory.role_eligibility_schedule_instances.role_eligibility_schedule_instances_request_builder import (  # noqa: E501
    RoleEligibilityScheduleInstancesRequestBuilder,
)

from appliance.graph.gateway import GraphCallFailed, GraphGateway
from appliance.graph.paging import every_page

SENSITIVE_USER_TOOLS = frozenset({"m365_user_disable", "m365_user_enable", "m365_password_reset",
                                  "m365_sessions_revoke"})
"""Tools whose action Entra treats as sensitive on a user (or, for revoking sessions, as an account takeover)."""
GROUP_TOOLS = frozenset({"m365_group_add_member", "m365_group_remove_member"})


class Refused(Exception):
    """The appliance refuses the target itself (an administrator, a role-assignable group)."""


def _kind(obj: Any) -> str:
    return str(getattr(obj, "odata_type", "") or "").rsplit(".", 1)[-1]


async def privileged_reason(gw: GraphGateway, user_id: str, upn: str, crid: str) -> str | None:
    """Why `upn` is a privileged account, or None. Refuses (answers a reason) when it cannot read every page."""
    users = gw.client.users.by_user_id(user_id)
    memberships = await every_page(gw, crid, users.transitive_member_of)
    for obj in memberships.items:
        if _kind(obj) == "directoryRole":
            return f"{upn} holds the {obj.display_name or 'an administrator'} role"
        if _kind(obj) == "group" and getattr(obj, "is_assignable_to_role", False):
            return f"{upn} is a member of {obj.display_name}, a group that can carry administrator roles"
    owned = await every_page(gw, crid, users.owned_objects)
    for obj in owned.items:
        if _kind(obj) == "group" and getattr(obj, "is_assignable_to_role", False):
            return f"{upn} owns {obj.display_name}, a group that can carry administrator roles"
    builder = RoleEligibilityScheduleInstancesRequestBuilder
    principal = f"principalId eq '{user_id}'"
    query = builder.RoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters(filter=principal)
    eligible = await every_page(gw, crid, gw.client.role_management.directory.role_eligibility_schedule_instances,
                                query=query)
    if eligible.items:
        return f"{upn} is eligible for an administrator role (Privileged Identity Management)"
    if not (memberships.complete and owned.complete and eligible.complete):
        pages = memberships.pages + owned.pages + eligible.pages
        return f"I stopped after {pages} pages of {upn}'s memberships, so I can't rule out an administrator role"
    return None


async def refusal(gw: GraphGateway, tool: str, arguments: Mapping[str, Any], crid: str) -> str | None:
    """The sentence refusing this tool call's target, or None (targets of other tools are not checked)."""
    from appliance.graph.executors.common import get_group_by_mail, get_user

    try:
        if tool in SENSITIVE_USER_TOOLS:
            user = await get_user(gw, str(arguments["user"]), crid)
            reason = await privileged_reason(gw, str(user.id), str(arguments["user"]), crid)
            return f"{reason}; the Aid does not change administrator accounts. Nothing was changed." if reason else None
        if tool in GROUP_TOOLS:
            group = await get_group_by_mail(gw, str(arguments["group"]), crid)
            if group.is_assignable_to_role:
                return (f"{arguments['group']} can carry administrator roles; the Aid does not change its membership. "
                        "Nothing was changed.")
    except GraphCallFailed as exc:
        if exc.status == 404:
            return None  # the executor says it cannot find the target
        target = arguments.get("user") or arguments.get("group")
        return (f"I couldn't check whether {target} is a privileged account (Microsoft 365 answered "
                f"{exc.status or 'nothing'}), so I won't propose this. Nothing was changed.")
    return None
