"""The person's own waiting changes: list them, cancel the last one or all of them.

They touch only the appliance's own pending actions of the person who asks (never Microsoft 365, never
anyone else's), so they need no Graph permission and no confirmation: cancelling only stops a change.
"""

from typing import Literal

from appliance.catalog.spec import ToolArguments, ToolSpec


class NoArgs(ToolArguments):
    pass


class CancelArgs(ToolArguments):
    which: Literal["last", "all"]


TOOLS = (
    ToolSpec(
        name="aid_pending_list",
        description="List the changes you asked for that still wait for your confirmation.",
        arguments=NoArgs,
        graph_operation="none (the appliance's own pending actions)",
        permission="",
        admin_role=None,
        changes_state=False,
        runs_on_graph=False,
    ),
    ToolSpec(
        name="aid_pending_cancel",
        description="Cancel your own waiting changes: the last one, or all of them.",
        arguments=CancelArgs,
        graph_operation="none (the appliance's own pending actions)",
        permission="",
        admin_role=None,
        changes_state=False,
        runs_on_graph=False,
    ),
)
