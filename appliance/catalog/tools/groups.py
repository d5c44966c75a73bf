"""Group tools: list members, add and remove a member. Role-assignable groups are refused by the executor."""

from appliance.catalog.shapes import GroupMail, Upn
from appliance.catalog.spec import ToolArguments, ToolSpec


class GroupArgs(ToolArguments):
    group: GroupMail


class MembershipArgs(ToolArguments):
    group: GroupMail
    user: Upn


TOOLS = (
    ToolSpec(
        name="m365_group_members",
        description="List the members of a group, given the group's mail address.",
        arguments=GroupArgs,
        target_keys=("group",),
        graph_operation="GET /groups/{id}/members",
        permission="GroupMember.Read.All",
        admin_role=None,
        changes_state=False,
    ),
    ToolSpec(
        name="m365_group_add_member",
        description="Add a user to a group.",
        arguments=MembershipArgs,
        target_keys=("user", "group"),
        graph_operation="POST /groups/{id}/members/$ref",
        permission="GroupMember.ReadWrite.All",
        extra_permissions=("User.Read.All",),
        admin_role="Groups Administrator",
        changes_state=True,
        summary_template="Add {user} to the group {group}",
    ),
    ToolSpec(
        name="m365_group_remove_member",
        description="Remove a user from a group.",
        arguments=MembershipArgs,
        target_keys=("user", "group"),
        graph_operation="DELETE /groups/{id}/members/{userId}/$ref",
        permission="GroupMember.ReadWrite.All",
        extra_permissions=("User.Read.All",),
        admin_role="Groups Administrator",
        changes_state=True,
        summary_template="Remove {user} from the group {group}",
    ),
)
