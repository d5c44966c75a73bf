"""`m365_audit_query`: the appliance's own joined audit records (it does not call Graph).

Which tools it can filter on is derived from the catalog: every state-changing tool (each leaves an
audit record), so a new tool needs no edit here.
"""

from collections.abc import Iterable
from typing import Literal

from appliance.catalog.spec import ToolArguments, ToolSpec

AUDIT_QUERY_TOOL = "m365_audit_query"
ANY_TOOL = "any"


def audit_query_tool(tools: Iterable[ToolSpec]) -> ToolSpec:
    """The audit query over the state-changing tools among `tools` (plus `any`), in catalog order."""
    auditable = (ANY_TOOL, *(spec.name for spec in tools if spec.changes_state))

    class AuditQueryArgs(ToolArguments):
        days: Literal[1, 7, 30]
        tool: Literal[auditable]  # type: ignore[valid-type]

    return ToolSpec(
        name=AUDIT_QUERY_TOOL,
        description="Show the actions the Aid carried out recently (who asked, who confirmed, what ran).",
        arguments=AuditQueryArgs,
        graph_operation="none (the appliance's own audit records)",
        permission="",
        admin_role=None,
        changes_state=False,
        runs_on_graph=False,
    )
