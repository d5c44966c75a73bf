"""When the model's queue is full the person is told to try again, in words, and nothing is changed."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.errors import EngineBusy
from appliance.types import ContextMessage, Mentions, Proposal
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, Aid


class BusyProposer:
    name = "busy"

    async def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        raise EngineBusy("64 turns are already waiting for the model")


async def test_a_full_model_queue_is_told_politely_and_changes_nothing(aid: Aid) -> None:
    aid.handler.proposer = BusyProposer()
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    assert "send it again in a minute" in outbox.last and "nothing was changed" in outbox.last
    assert aid.tools.runs == [] and not outbox.cards
