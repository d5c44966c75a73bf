"""`ScriptedProposer`: a `ports.Proposer` that answers from a script (unit tests of the orchestrator).

It never stands in for the model where a user would meet it: the end-to-end tests use llama.cpp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from appliance.errors import ConstraintViolation
from appliance.types import ContextMessage, Mentions, Proposal, ToolCall

Script = Callable[[str], tuple[str, dict[str, Any]] | None]


class ScriptedProposer:
    """Proposes `script(last user text)`; None from the script plays a model failure."""

    name = "scripted-test-engine"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.seen: list[list[ContextMessage]] = []
        self.mentions: list[Mentions | None] = []

    async def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """The scripted call for the newest user message."""
        self.seen.append(list(messages))
        self.mentions.append(mentions)
        answer = self.script(messages[-1].text)
        if answer is None:
            raise ConstraintViolation("scripted failure")
        tool, arguments = answer
        return Proposal(call=ToolCall(tool=tool, arguments=arguments), raw_text="", model=self.name,
                        model_sha256="", backend="scripted", prompt_tokens=0, generated_tokens=0)
