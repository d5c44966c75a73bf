"""The real SmolLM2 model decoding several conversations in one llama.cpp batch: greedy proposals equal
the ones the one-at-a-time path makes, and the shared system prefix is intact afterwards.

Equal here, not bit-identical logits: llama.cpp's CPU attention sums in an order that depends on the
batch's shape and on which KV cells a sequence's tokens landed in, so the same token's logits differ
by up to ~0.5 between the two paths (measured). A message whose greedy choice is a near-tie can
therefore come out differently (a two-message conversation did: add-member vs list-MFA-methods); the
messages below are not near-ties. That each sequence takes exactly the serial decisions from its own
logits is tested with a scripted model (tests/unit/engine/test_batch_scheduler.py)."""

from __future__ import annotations

from appliance.engine.local import LocalOrchestrator
from appliance.engine.scheduler import BatchScheduler
from appliance.types import ContextMessage

MESSAGES = [
    "Who is sarah.lin@contoso.com?",
    "Assign ENTERPRISEPACK to sarah.lin@contoso.com",
    "What licenses do we have?",
    "reset the password please",
]


def test_batched_greedy_proposals_equal_serial_ones(orchestrator: LocalOrchestrator) -> None:
    conversations = [[ContextMessage(role="user", text=text)] for text in MESSAGES]
    serial = [orchestrator.propose(conversation) for conversation in conversations]
    scheduler = BatchScheduler(orchestrator)
    try:
        futures = [scheduler.submit(conversation) for conversation in conversations]
        batched = [future.result(timeout=600) for future in futures]
    finally:
        scheduler.close()
    assert scheduler.decoder.peak > 1  # they were decoded together, not one after another
    assert [(p.call, p.raw_text) for p in batched] == [(p.call, p.raw_text) for p in serial]
    assert len({p.call.tool for p in serial}) == len(MESSAGES)  # four tools: the comparison can tell them apart
    again = orchestrator.propose(conversations[0])  # sequence 0's prefix survived the batch
    assert (again.call, again.raw_text) == (serial[0].call, serial[0].raw_text)
