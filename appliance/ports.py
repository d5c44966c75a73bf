"""The Protocols the orchestrator reaches out through. Adapters implement them; wiring joins them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from appliance.types import ContextMessage, Proposal


class Orchestrator(Protocol):
    """Turns a bounded conversation into exactly one valid catalog tool call."""

    def propose(self, messages: Sequence[ContextMessage]) -> Proposal:
        """Return the one tool call the model proposes for the conversation so far."""
        ...
