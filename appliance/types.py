"""Plain data shared by every room: messages in, tool calls out. Stdlib + pydantic only."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "tool"]


class ContextMessage(BaseModel):
    """One entry of the bounded conversation context given to the model.

    Only two kinds exist on purpose: what the user wrote, and the *shape* of a tool result
    (e.g. `m365_user_get -> found 1 user`), never bulk directory data.
    """

    model_config = ConfigDict(frozen=True)

    role: Role
    text: str = Field(max_length=20_000)


class ToolCall(BaseModel):
    """A validated call of one catalog tool, as proposed by an orchestrator."""

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, Any]

    def canonical_json(self) -> str:
        """Stable JSON (sorted keys, no whitespace): what the confirmation hash is computed over."""
        return json.dumps(
            {"tool": self.tool, "arguments": self.arguments},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )


class Proposal(BaseModel):
    """What an orchestrator returns for one message: the call plus how it was made."""

    model_config = ConfigDict(frozen=True)

    call: ToolCall
    raw_text: str
    model: str
    model_sha256: str
    backend: str
    prompt_tokens: int
    generated_tokens: int
    forced_tokens: int = 0
    compile_seconds: float = 0.0
    seconds: float = 0.0
