"""`reply`: the pseudo-tool for answering in words. It calls nothing.

The model never writes the words: it picks an intent from a closed set and a topic from a closed set,
and the appliance renders the sentence (`catalog/replies.py`). So no model text reaches a person, a
reply cannot loop or ramble, and an attacker cannot make the Aid say something of their choosing.
"""

from typing import Literal

from appliance.catalog.spec import ToolArguments, ToolSpec

INTENTS = (
    "greeting",
    "thanks",
    "capabilities",
    "ask_who",
    "ask_which_license",
    "ask_which_group",
    "out_of_scope",
    "cannot_do",
)
"""What a reply does: greet, acknowledge thanks, say what the Aid can do, ask who / which license /
which group, say a request is outside the Aid's job, or that the Aid cannot do that change."""

TOPICS = ("none", "account", "password", "sessions", "license", "group", "profile", "mfa", "sign_ins", "audit")
"""What the person was asking about (chooses the wording of a question), or none."""


class ReplyArgs(ToolArguments):
    intent: Literal[INTENTS]  # type: ignore[valid-type]
    about: Literal[TOPICS]  # type: ignore[valid-type]


TOOLS = (
    ToolSpec(
        name="reply",
        description="Answer without acting: greet, thank, say what you can do, ask who or which license or group, "
        "or say it is out of scope or not possible. Changes nothing.",
        arguments=ReplyArgs,
        graph_operation="none",
        permission="",
        admin_role=None,
        changes_state=False,
        runs_on_graph=False,
    ),
)
