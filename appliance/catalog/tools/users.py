"""User tools: look up, search, disable/enable, revoke sessions, reset password, update attributes."""

from typing import Literal

from appliance.catalog.shapes import Label, SearchText, Upn
from appliance.catalog.spec import ToolArguments, ToolSpec


class UserArgs(ToolArguments):
    user: Upn


class SearchArgs(ToolArguments):
    query: SearchText


class UpdateArgs(ToolArguments):
    user: Upn
    field: Literal["jobTitle", "department", "officeLocation"]
    value: Label


TOOLS = (
    ToolSpec(
        name="m365_user_get",
        description="Show one user's account: name, job title, department, enabled or not, licenses.",
        arguments=UserArgs,
        target_keys=("user",),
        graph_operation="GET /users/{id}",
        permission="User.Read.All",
        admin_role=None,
        changes_state=False,
    ),
    ToolSpec(
        name="m365_user_search",
        description="Find users whose name or address starts with some text.",
        arguments=SearchArgs,
        graph_operation="GET /users?$filter=startswith(displayName,'...')",
        permission="User.Read.All",
        admin_role=None,
        changes_state=False,
    ),
    ToolSpec(
        name="m365_user_disable",
        description="Block a user from signing in (disable the account).",
        arguments=UserArgs,
        target_keys=("user",),
        graph_operation="PATCH /users/{id} accountEnabled=false",
        permission="User.EnableDisableAccount.All",
        extra_permissions=("User.Read.All",),
        admin_role="User Administrator",
        changes_state=True,
        summary_template="Disable the account of {user} (block sign-in)",
    ),
    ToolSpec(
        name="m365_user_enable",
        description="Allow a disabled user to sign in again (enable the account).",
        arguments=UserArgs,
        target_keys=("user",),
        graph_operation="PATCH /users/{id} accountEnabled=true",
        permission="User.EnableDisableAccount.All",
        extra_permissions=("User.Read.All",),
        admin_role="User Administrator",
        changes_state=True,
        summary_template="Enable the account of {user} (allow sign-in)",
    ),
    ToolSpec(
        name="m365_sessions_revoke",
        description="Sign a user out everywhere by revoking all their sign-in sessions.",
        arguments=UserArgs,
        target_keys=("user",),
        graph_operation="POST /users/{id}/revokeSignInSessions",
        permission="User.RevokeSessions.All",
        extra_permissions=("User.Read.All",),
        admin_role="User Administrator",
        changes_state=True,
        summary_template="Revoke all sign-in sessions of {user}",
    ),
    ToolSpec(
        name="m365_password_reset",
        description="Reset a user's password; they must choose a new one at next sign-in.",
        arguments=UserArgs,
        target_keys=("user",),
        graph_operation="PATCH /users/{id} passwordProfile.forceChangePasswordNextSignIn=true",
        permission="User-PasswordProfile.ReadWrite.All",
        extra_permissions=("User.Read.All",),
        admin_role="Helpdesk Administrator",
        changes_state=True,
        summary_template="Reset the password of {user} and require a new one at next sign-in",
    ),
    ToolSpec(
        name="m365_user_update",
        description="Change a user's job title, department or office location.",
        arguments=UpdateArgs,
        target_keys=("user",),
        graph_operation="PATCH /users/{id} jobTitle|department|officeLocation",
        permission="User.ReadUpdate.All",
        extra_permissions=("User.Read.All",),
        admin_role="User Administrator",
        changes_state=True,
        summary_template="Set {field} of {user} to '{value}'",
    ),
)
