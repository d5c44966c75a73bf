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


class TokenCacheStore(Protocol):
    """Where msal's SerializableTokenCache blob is persisted (inside the encrypted store)."""

    def load_token_cache(self) -> str | None:
        """The serialized cache, or None if there is none yet."""
        ...

    def save_token_cache(self, blob: str) -> None:
        """Replace the serialized cache."""
        ...
