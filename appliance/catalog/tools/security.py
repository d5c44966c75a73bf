"""Security read tools: a user's registered MFA methods and recent sign-ins."""

from typing import Literal

from appliance.catalog.shapes import Upn
from appliance.catalog.spec import ToolArguments, ToolSpec


class MfaArgs(ToolArguments):
    user: Upn


class SignInArgs(ToolArguments):
    user: Upn
    days: Literal[1, 7, 30]


TOOLS = (
    ToolSpec(
        name="m365_mfa_methods_list",
        description="List the MFA (authentication) methods a user has registered.",
        arguments=MfaArgs,
        target_keys=("user",),
        graph_operation="GET /users/{id}/authentication/methods",
        permission="UserAuthenticationMethod.Read.All",
        extra_permissions=("User.Read.All",),
        admin_role="Authentication Administrator",
        changes_state=False,
    ),
    ToolSpec(
        name="m365_signins_recent",
        description="Show a user's recent sign-ins (last 1, 7 or 30 days): when, from where, success or not.",
        arguments=SignInArgs,
        target_keys=("user",),
        graph_operation="GET /auditLogs/signIns?$filter=userPrincipalName eq '...'",
        permission="AuditLog.Read.All",
        extra_permissions=("Directory.Read.All",),
        admin_role="Reports Reader",
        changes_state=False,
    ),
)
