"""`ThreadedProposer`: any blocking `ports.ToolCallModel` as an awaitable `ports.Proposer`.

The model runs on one dedicated thread: llama.cpp's context is not thread-safe, and the event loop
(Teams, Graph, the store) must keep going while a message is decoded. Calls queue in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from appliance.ports import ToolCallModel
from appliance.types import ContextMessage, Mentions, Proposal


class ThreadedProposer:
    """Runs `model.propose` on a single worker thread."""

    def __init__(self, model: ToolCallModel, name: str) -> None:
        self.model = model
        self._name = name
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")

    @property
    def name(self) -> str:
        """The model and its fingerprint, as the audit record's Orchestrator field names it."""
        return self._name

    async def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """The proposal, computed on the model thread."""
        return await asyncio.wrap_future(self._thread.submit(self.model.propose, list(messages), mentions))

    def close(self) -> None:
        """Finish the queued calls, stop the thread and free the model (or the SDK client)."""
        self._thread.shutdown(wait=True)
        close = getattr(self.model, "close", None)
        if callable(close):
            close()
