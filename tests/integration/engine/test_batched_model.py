"""The real SmolLM2 model decoding several conversations in one llama.cpp batch: greedy proposals equal
the ones the one-at-a-time path makes, and the shared system prefix is intact afterwards."""

from __future__ import annotations

from appliance.engine.local import LocalOrchestrator
from appliance.engine.scheduler import BatchScheduler
from appliance.types import ContextMessage

CONVERSATIONS = [
    ["Who is sarah.lin@contoso.com?"],
    ["Assign ENTERPRISEPACK to sarah.lin@contoso.com"],
    ["What licenses do we have?", "Add doug@contoso.com to finance@contoso.com"],
    ["reset the password please"],
]


def _messages(texts: list[str]) -> list[ContextMessage]:
    return [ContextMessage(role="user", text=text) for text in texts]


def test_batched_greedy_proposals_equal_serial_ones(orchestrator: LocalOrchestrator) -> None:
    serial = [orchestrator.propose(_messages(texts)) for texts in CONVERSATIONS]
    scheduler = BatchScheduler(orchestrator)
    try:
        futures = [scheduler.submit(_messages(texts)) for texts in CONVERSATIONS]
        batched = [future.result(timeout=300) for future in futures]
    finally:
        scheduler.close()
    assert scheduler.decoder.peak > 1  # they were decoded together, not one after another
    assert [(p.call, p.raw_text) for p in batched] == [(p.call, p.raw_text) for p in serial]
    assert len({p.call.tool for p in serial}) > 1  # different tools: the comparison can tell outputs apart
    again = orchestrator.propose(_messages(CONVERSATIONS[0]))  # sequence 0's prefix survived the batch
    assert (again.call, again.raw_text) == (serial[0].call, serial[0].raw_text)
