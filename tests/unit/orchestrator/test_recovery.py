"""After a crash: EXECUTING is never re-run blindly; CONFIRMED-but-not-started runs once; cards expire.
A write with no directory audit entry after `reconcile_after_seconds` is Unknown, not Failure."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, Aid, yes


async def _outbox_for(outbox: RecordingOutbox):  # type: ignore[no-untyped-def]
    async def find(conversation_ref: str) -> RecordingOutbox:
        return outbox

    return find


async def _lost_call(aid: Aid, outbox: RecordingOutbox) -> str:
    """Propose, confirm, and lose the Graph call's outcome (the action stays EXECUTING)."""
    aid.tools.raises.add("m365_license_assign")
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    await aid.say(DOUG, yes(outbox), outbox)
    action_id = next(iter(outbox.cards.values())).action_id
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "EXECUTING" and "will not be sent again" in outbox.last
    aid.tools.raises.clear()
    return action_id


async def test_an_executing_action_graph_recorded_is_marked_done_without_running_again(aid: Aid) -> None:
    outbox = RecordingOutbox()
    action_id = await _lost_call(aid, outbox)
    crid = aid.tools.runs[0][2]
    aid.tools.audit_entries[crid] = "Directory_from-graph"  # Graph did commit it
    report = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert report.done == [action_id] and len(aid.tools.runs) == 1
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "DONE"
    records = await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                             limit=5)
    assert records[0]["AuditEntryId"] == "Directory_from-graph" and records[0]["ClientRequestId"] == crid
    assert "Microsoft 365 audit log" in outbox.last


async def test_an_executing_action_without_an_entry_waits_then_is_unknown_and_is_never_rerun(aid: Aid) -> None:
    outbox = RecordingOutbox()
    action_id = await _lost_call(aid, outbox)
    report = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert report.waiting == [action_id]
    aid.clock.advance(seconds=61)
    report = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert report.unknown == [action_id] and report.failed == [] and len(aid.tools.runs) == 1
    action = await aid.ledger.get_action(action_id)
    assert action is not None and action.state == "UNKNOWN"
    assert "can't confirm yet" in outbox.last and "not sent again" in outbox.last
    assert "nothing was changed" not in outbox.last.lower()
    records = await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                             limit=5)
    assert [record["Outcome"] for record in records] == ["Unknown"]


async def test_a_confirmed_action_not_yet_started_runs_once_after_restart(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    card = next(iter(outbox.cards.values()))
    assert await aid.ledger.confirm(card.action_id, requester_id=DOUG.object_id, action_hash=card.action_hash,
                                    moment=aid.clock())
    report = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert report.resumed == [card.action_id] and len(aid.tools.runs) == 1
    again = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert again.resumed == [] and len(aid.tools.runs) == 1


async def test_a_confirmed_action_whose_confirmation_expired_is_not_run(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    card = next(iter(outbox.cards.values()))
    await aid.ledger.confirm(card.action_id, requester_id=DOUG.object_id, action_hash=card.action_hash,
                             moment=aid.clock())
    aid.clock.advance(minutes=30)
    report = await aid.handler.executor.recover(await _outbox_for(outbox))
    assert report.failed == [card.action_id] and aid.tools.runs == []


async def test_overdue_cards_are_expired_and_updated_in_place(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    card_id = next(iter(outbox.cards))
    assert await aid.handler.executor.expire_due(await _outbox_for(outbox)) == 0
    aid.clock.advance(minutes=10)
    assert await aid.handler.executor.expire_due(await _outbox_for(outbox)) == 1
    assert outbox.cards[card_id].status == "expired"


async def test_upkeep_never_settles_an_action_whose_graph_call_is_still_running_here(aid: Aid) -> None:
    """A slow Graph call (retries, throttling) can outlast reconcile_after_seconds; it is not "interrupted"."""
    outbox = RecordingOutbox()
    release = asyncio.Event()
    original = aid.tools.run

    async def slow(tool: str, arguments: Any, client_request_id: str) -> Any:
        await release.wait()
        return await original(tool, arguments, client_request_id)

    aid.tools.run = slow  # type: ignore[method-assign]
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    confirming = asyncio.create_task(aid.say(DOUG, yes(outbox), outbox))

    async def executing() -> None:
        while not aid.tools.runs and not (await aid.ledger.actions_in_state("EXECUTING")):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(executing(), timeout=30)  # fails instead of hanging if it never starts
    aid.clock.advance(seconds=600)  # far past reconcile_after_seconds
    report = await aid.handler.executor.settle_interrupted(await _outbox_for(outbox))
    assert report.failed == [] and report.done == [] and report.waiting == []
    release.set()
    await confirming
    action = (await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                             limit=5))[-1]
    assert action["Outcome"] == "Success" and len(aid.tools.runs) == 1
