"""A write whose answer was lost (timeout, dropped connection, 5xx) is never sent again: the directory audit
log settles it. A `success` entry settles DONE, a `failure` entry FAILED with its reason; with no entry after
`reconcile_after_seconds` it is Unknown, and a later entry still settles it (issue 10, issue 15 item 1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from appliance.store import audit_records
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, Aid, yes

TOOL = "m365_license_assign"


async def _no_wait(seconds: float) -> None:
    return None


async def _confirm_with_lost_answer(aid: Aid, outbox: RecordingOutbox) -> str:
    aid.handler.executor.sleep = _no_wait
    aid.tools.outcomes[TOOL] = "unknown"
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    await aid.say(DOUG, yes(outbox), outbox)
    return next(iter(outbox.cards.values())).action_id


async def _records(aid: Aid) -> list[dict[str, Any]]:
    return await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                          limit=10)


async def _find(outbox: RecordingOutbox) -> Any:
    async def find(conversation_ref: str) -> RecordingOutbox:
        return outbox

    return find


async def test_a_lost_answer_whose_write_landed_is_settled_done_before_the_turn_ends(aid: Aid) -> None:
    outbox = RecordingOutbox()
    aid.tools.committed_unknown.add(TOOL)
    action_id = await _confirm_with_lost_answer(aid, outbox)
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "DONE" and len(aid.tools.runs) == 1
    assert any("will not be sent again" in text for text in outbox.said)
    assert "Done:" in outbox.last and not any("nothing was changed" in t.lower() for t in outbox.said)
    assert (await _records(aid))[-1]["Outcome"] == "Success"


async def test_a_failure_entry_settles_failed_with_graphs_reason(aid: Aid) -> None:
    outbox = RecordingOutbox()
    aid.tools.outcomes[TOOL] = "unknown"
    aid.handler.executor.sleep = _no_wait
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    original = aid.tools.run

    async def run_and_fail(tool: str, arguments: Any, client_request_id: str) -> Any:
        aid.directory.failed_entries[client_request_id] = "Subscription has no more available licenses."
        return await original(tool, arguments, client_request_id)

    aid.tools.run = run_and_fail  # type: ignore[method-assign]
    await aid.say(DOUG, yes(outbox), outbox)
    action = await aid.ledger.get_action(next(iter(outbox.cards.values())).action_id)
    assert action is not None and action.state == "FAILED"
    assert "recorded it as failed: Subscription has no more available licenses." in outbox.last
    assert (await _records(aid))[-1]["Outcome"] == "Failure"


async def test_no_entry_is_unknown_then_a_late_entry_settles_it_and_verify_shows_it_open_meanwhile(aid: Aid) -> None:
    outbox = RecordingOutbox()
    action_id = await _confirm_with_lost_answer(aid, outbox)
    executor = aid.handler.executor
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "EXECUTING"  # the inline check found nothing; upkeep goes on
    assert (await executor.settle_interrupted(await _find(outbox))).waiting == [action_id]
    aid.clock.advance(seconds=61)
    assert (await executor.settle_interrupted(await _find(outbox))).unknown == [action_id]
    assert "can't confirm yet" in outbox.last
    opened = await aid.ledger.store.arun(audit_records.open_unknowns)
    assert [r["ActionId"] for r in opened] == [action_id]
    crid = aid.tools.runs[0][2]
    aid.tools.audit_entries[crid] = "Directory_late"  # the entry shows up minutes later
    aid.clock.advance(minutes=5)
    report = await executor.settle_interrupted(await _find(outbox))
    assert report.done == [action_id] and len(aid.tools.runs) == 1
    assert "now shows it" in outbox.last and "Done:" in outbox.last
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "DONE"
    outcomes = [r["Outcome"] for r in await _records(aid)]
    assert outcomes[-2:] == ["Unknown", "Success"]
    assert await aid.ledger.store.arun(audit_records.open_unknowns) == []


async def test_an_outcome_teams_would_not_take_is_kept_and_sent_again(aid: Aid) -> None:
    class Refusing(RecordingOutbox):
        refuse = True

        async def say(self, text: str) -> str:
            if self.refuse:
                raise RuntimeError("Teams answered 403 ConversationBlockedByUser")
            return await super().say(text)

    outbox = Refusing()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    outbox.refuse = False
    card = next(iter(outbox.cards.values()))
    outbox.refuse = True
    waiting = await aid.ledger.get_action(card.action_id)
    assert waiting is not None
    await aid.handler.decisions.confirm(waiting, DOUG.object_id, card.action_hash, outbox,
                                        conversation_ref=waiting.conversation_ref)
    action = await aid.ledger.get_action(card.action_id)
    assert action is not None and action.state == "DONE" and len(aid.tools.runs) == 1
    assert await aid.handler.executor.redeliver(await _find(outbox)) == 0  # not due yet (5 min)
    outbox.refuse = False
    from appliance.store import undelivered

    kept = await aid.ledger.store.arun(undelivered.still_undelivered)
    assert len(kept) == 1 and "ConversationBlockedByUser" in kept[0]["reason"]
    assert "m365_license_assign done" in kept[0]["text"]
    await aid.ledger.store.arun(lambda db: db.execute("UPDATE undelivered_messages SET next_try_at = ''"))
    assert await aid.handler.executor.redeliver(await _find(outbox)) == 1
    assert "m365_license_assign done" in outbox.last
    assert await aid.ledger.store.arun(undelivered.still_undelivered) == []
