"""`reply`: the pseudo-tool for a text answer or a clarifying question. It calls nothing."""

from appliance.catalog.shapes import ReplyText
from appliance.catalog.spec import ToolArguments, ToolSpec


class ReplyArgs(ToolArguments):
    text: ReplyText


TOOLS = (
    ToolSpec(
        name="reply",
        description="Answer in words or ask a clarifying question (for example: which user?). Changes nothing.",
        arguments=ReplyArgs,
        graph_operation="none",
        permission="",
        admin_role=None,
        changes_state=False,
        runs_on_graph=False,
    ),
)
