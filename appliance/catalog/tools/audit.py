"""`m365_audit_query`: the appliance's own joined audit records (it does not call Graph)."""

from typing import Literal

from appliance.catalog.spec import ToolArguments, ToolSpec

AUDITABLE_TOOLS = (
    "any",
    "m365_license_assign",
    "m365_license_remove",
    "m365_group_add_member",
    "m365_group_remove_member",
    "m365_user_disable",
    "m365_user_enable",
    "m365_sessions_revoke",
    "m365_password_reset",
    "m365_user_update",
)


class AuditQueryArgs(ToolArguments):
    days: Literal[1, 7, 30]
    tool: Literal[AUDITABLE_TOOLS]  # type: ignore[valid-type]


TOOLS = (
    ToolSpec(
        name="m365_audit_query",
        description="Show the actions the Aid carried out recently (who asked, who confirmed, what ran).",
        arguments=AuditQueryArgs,
        graph_operation="none (the appliance's own audit records)",
        permission="",
        admin_role=None,
        changes_state=False,
    ),
)
