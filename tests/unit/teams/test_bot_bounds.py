"""What waits is bounded (issue 15, item 6): at most `max_turns` turns started and not finished, at most
`waiting_per_sender` of them one person's; beyond that a polite sentence, never a queue. A reply sent in
the request that cannot be delivered never raises (item 4). botbuilder's own TestAdapter plays Teams."""

from __future__ import annotations

import asyncio

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from appliance.ports import Outbox
from appliance.teams.activities import Inspection
from appliance.teams.bot import BUSY, BUSY_SENDER, INSPECTION_KEY, AidBot
from appliance.types import Turn


def _context(adapter: TestAdapter, sender: str, inspection: Inspection) -> TurnContext:
    activity = Activity(type="message", id="1", text="hi", channel_id="msteams", service_url="https://x.test/",
                        from_property=ChannelAccount(id=f"29:{sender}", aad_object_id=sender),
                        recipient=ChannelAccount(id="28:bot"), conversation=ConversationAccount(id=f"c-{sender}"))
    context = TurnContext(adapter, activity)
    context.turn_state[INSPECTION_KEY] = inspection
    return context


def _turn(sender: str) -> Inspection:
    return Inspection(202, "turn", turn=Turn(f"teams://msg/c-{sender}", "1", sender, sender, "hi"))


class Harness:
    def __init__(self, max_turns: int, per_sender: int) -> None:
        self.adapter, self.release, self.started = TestAdapter(), asyncio.Event(), []

        async def run_turn(turn: Turn, outbox: Outbox) -> None:
            self.started.append(turn.requester_id)
            await self.release.wait()

        async def save_reference(ref: str, reference: str, person: str) -> None:
            return None

        self.bot = AidBot(self.adapter, "app", run_turn, save_reference, max_turns, per_sender)  # type: ignore[arg-type]

    async def message(self, sender: str) -> list[str]:
        before = len(self.adapter.activity_buffer)
        await self.bot.on_message_activity(_context(self.adapter, sender, _turn(sender)))
        await asyncio.sleep(0)
        return [str(a.text) for a in list(self.adapter.activity_buffer)[before:]]


async def test_one_sender_cannot_queue_more_than_their_share() -> None:
    harness = Harness(max_turns=5, per_sender=2)
    assert [await harness.message("ann") for _ in range(3)] == [[], [], [BUSY_SENDER]]
    assert [await harness.message("ben") for _ in range(2)] == [[], []]
    assert await harness.message("cid") == []
    assert await harness.message("dee") == [BUSY]  # five turns are waiting: nobody queues more
    assert harness.started == ["ann", "ann", "ben", "ben", "cid"] and len(harness.bot.tasks) == 5
    harness.release.set()
    await harness.bot.drain(5.0)
    assert not harness.bot.tasks and await harness.message("ann") == []  # room again


async def test_a_reply_that_cannot_be_delivered_never_raises() -> None:
    class Unreachable(TestAdapter):
        async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[object]:
            raise ConnectionError("the connector answered 404")

    harness = Harness(max_turns=1, per_sender=1)
    harness.bot.adapter = Unreachable()
    refusal = Inspection(200, "not_personal", reply="Only one-to-one chats, please.")
    await harness.bot.on_message_activity(_context(harness.bot.adapter, "ann", refusal))  # returns, no exception
