"""Settling a write whose answer was lost, exactly and fast (in-memory ledger, fake Graph, a recorded sleep):
the inline back-off, the upkeep's EXECUTING and UNKNOWN passes, what the person is told when Teams will not
take a message, expiry and recovery's records. Mutation testing runs it against orchestrator/execution.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from appliance.orchestrator import outcomes
from appliance.orchestrator.execution import RecoveryReport
from appliance.orchestrator.shared import EXPIRED_LINE
from appliance.types import AuditMatch, ExecutionResult
from tests.unit.orchestrator.conftest import ops_events as _events
from tests.unit.orchestrator.test_execution_states import NOW, SUMMARY, UNREACHABLE, Rig

TOOL = "m365_license_assign"




class LostAnswer(Rig):
    """A rig whose Graph call comes back `unknown` (the write may have landed), with every sleep recorded;
    `on_sleep[n]` runs at the n-th sleep (1-based), to play the directory or another process moving on."""

    def __init__(self, **policy: Any) -> None:
        super().__init__(**policy)
        self.tools.outcomes[TOOL] = "unknown"
        self.sleeps: list[float] = []
        self.on_sleep: dict[int, Any] = {}
        self.sent: list[ExecutionResult] = []
        run = self.tools.run

        async def recording_run(tool: str, arguments: Any, client_request_id: str) -> ExecutionResult:
            result = await run(tool, arguments, client_request_id)
            self.sent.append(result)
            return result

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            if len(self.sleeps) > 20:
                raise AssertionError("the inline settling never stops")
            step = self.on_sleep.get(len(self.sleeps))
            if step is not None:
                step()

        self.tools.run = recording_run  # type: ignore[method-assign]
        self.executor.sleep = sleep

    def crid(self) -> str:
        return str(self.ledger.actions["a1"].client_request_id)


# -- the inline back-off after a lost answer -----------------------------------------------------------------
async def test_a_lost_answer_is_looked_for_with_a_doubling_capped_back_off_then_left_to_upkeep(
    ops: pytest.LogCaptureFixture,
) -> None:
    rig = LostAnswer(settle_inline_seconds=15.0)
    action = rig.action("CONFIRMED")
    await rig.executor.execute(action, rig.outbox)
    assert rig.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]  # waited 1, 3, 7, 11, 15: stops at the 15 s policy
    assert len(rig.directory.lookups) == 5 and rig.state() == "EXECUTING" and rig.ledger.records == []
    assert rig.outbox.said == [outcomes.checking(action)] and rig.executor.in_flight == set()
    assert ("action.outcome_unknown", {"tool": TOOL, "action": "a1", "status": 400}) in _events(ops)


async def test_the_inline_wait_stops_exactly_at_the_policys_seconds() -> None:
    rig = LostAnswer(settle_inline_seconds=7.0)
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    assert rig.sleeps == [1.0, 2.0, 4.0] and len(rig.directory.lookups) == 3
    one = LostAnswer(settle_inline_seconds=1.0)
    await one.executor.execute(one.action("CONFIRMED"), one.outbox)
    assert one.sleeps == [1.0] and len(one.directory.lookups) == 1
    none = LostAnswer(settle_inline_seconds=0.0)
    await none.executor.execute(none.action("CONFIRMED"), none.outbox)
    assert none.sleeps == [] and none.directory.lookups == [] and none.state() == "EXECUTING"


async def test_an_entry_that_appears_while_waiting_settles_done_keeping_graphs_status_and_request_id() -> None:
    rig = LostAnswer()
    rig.on_sleep[2] = lambda: rig.tools.audit_entries.__setitem__(rig.crid(), "Directory_9")
    action = rig.action("CONFIRMED")
    await rig.executor.execute(action, rig.outbox)
    assert rig.sleeps == [1.0, 2.0] and len(rig.directory.lookups) == 2 and rig.state() == "DONE"
    [record] = rig.ledger.records
    [sent] = rig.sent
    assert record["Outcome"] == "Success" and record["AuditEntryId"] == "Directory_9"
    assert record["AuditEntryMatchedBy"] == "correlationId"  # the strong join: its own client-request-id
    assert (record["GraphStatus"], record["GraphRequestId"]) == (400, sent.request_id) and sent.request_id
    assert record["ClientRequestId"] == rig.crid()
    detail = f"Done: {SUMMARY}. (Confirmed from the Microsoft 365 audit log.)"
    assert record["Detail"] == detail
    assert rig.outbox.said == [outcomes.checking(action), f"{detail} (audit record {record['Hash'][:12]})"]
    assert rig.card_updates() == [("card-1", "done", "Success at 2026-11-24T10:00:00Z.")]


async def test_a_failure_entry_that_appears_while_waiting_settles_failed_with_graphs_reason() -> None:
    rig = LostAnswer()
    rig.on_sleep[1] = lambda: rig.directory.failed_entries.__setitem__(rig.crid(), "User not found")
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    assert rig.sleeps == [1.0] and rig.state() == "FAILED"
    [record] = rig.ledger.records
    assert record["Outcome"] == "Failure" and record["AuditEntryId"] == f"Directory_{rig.crid()}"
    assert record["AuditEntryMatchedBy"] == "correlationId"
    assert record["Detail"] == f"Not carried out: {SUMMARY}. Microsoft 365 recorded it as failed: User not found."
    assert rig.ledger.turns[-1][1].endswith("-> FAILED")


async def test_a_lost_answer_without_a_chat_keeps_the_checking_message_for_its_conversation() -> None:
    rig = LostAnswer(settle_inline_seconds=0.0)
    action = rig.action("CONFIRMED")
    await rig.executor.execute(action, None)
    assert rig.state() == "EXECUTING" and rig.ledger.records == []
    assert rig.ledger.undelivered == [("teams://msg/c1", outcomes.checking(action), UNREACHABLE)]


@pytest.mark.parametrize("moved", ["DONE", "gone"])
async def test_the_inline_wait_stops_once_the_action_was_settled_elsewhere(moved: str) -> None:
    rig = LostAnswer()

    def elsewhere() -> None:
        if moved == "gone":
            del rig.ledger.actions["a1"]
        else:
            rig.ledger.actions["a1"] = replace(rig.ledger.actions["a1"], state=moved)

    rig.on_sleep[1] = elsewhere
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    assert rig.sleeps == [1.0] and rig.directory.lookups == [] and rig.ledger.records == []


# -- telling the person when Teams will not take it -------------------------------------------------------------
class RefusingOutbox:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def say(self, text: str) -> str:
        raise self.error


@pytest.mark.parametrize(
    ("error", "reason"),
    [(ConnectionError("x" * 300), "x" * 200), (TimeoutError(), "TimeoutError")],
)
async def test_a_message_teams_refuses_is_kept_with_its_reason_and_logged(
    ops: pytest.LogCaptureFixture, error: Exception, reason: str
) -> None:
    rig = Rig()
    await rig.executor.tell("teams://msg/c9", RefusingOutbox(error), "hello")  # type: ignore[arg-type]
    assert rig.ledger.undelivered == [("teams://msg/c9", "hello", reason)]
    assert _events(ops) == [("message.undelivered", {"conversation": "teams://msg/c9"})]


# -- expiry and recovery's records ---------------------------------------------------------------------------
async def test_expiry_records_each_action_and_logs_it(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    rig.action()
    rig.clock.moment = NOW + timedelta(minutes=10)
    assert await rig.executor.expire_due(rig.outbox_for()) == 1
    [record] = rig.ledger.records
    assert record["Outcome"] == "Expired" and record["Detail"] == EXPIRED_LINE
    assert _events(ops) == [("action.expired", {"tool": TOOL, "action": "a1"})]
    assert await rig.executor.expire_due(rig.outbox_for()) == 0


async def test_recovery_records_why_an_expired_confirmation_was_not_run_even_without_a_chat() -> None:
    rig = Rig()
    rig.action("CONFIRMED", conversation_ref="teams://msg/gone", expires_at=NOW.isoformat())
    report = await rig.executor.recover(rig.outbox_for())
    assert report == RecoveryReport(failed=["a1"]) and rig.state() == "FAILED" and rig.tools.runs == []
    [record] = rig.ledger.records
    assert record["Outcome"] == "Failure"
    assert record["Detail"] == "Not carried out: the Aid restarted before it ran and the confirmation expired."
    assert rig.outbox.said == []


async def test_recovery_runs_a_fresh_confirmation_into_its_own_chat() -> None:
    rig = Rig()
    rig.action("CONFIRMED", expires_at=(NOW + timedelta(minutes=1)).isoformat())
    await rig.executor.recover(rig.outbox_for())
    [record] = rig.ledger.records
    assert rig.outbox.said == [f"m365_license_assign done (audit record {record['Hash'][:12]})"]
    assert rig.card_updates() == [("card-1", "done", "Success at 2026-11-24T10:00:00Z.")]


# -- the upkeep's passes: EXECUTING, then UNKNOWN ---------------------------------------------------------------
async def test_an_interrupted_action_with_a_failure_entry_is_failed_at_once() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1")
    rig.directory.failed_entries["crid-1"] = "Insufficient privileges"
    report = await rig.executor.settle_interrupted(rig.outbox_for())
    assert report == RecoveryReport(failed=["a1"]) and rig.state() == "FAILED"
    [record] = rig.ledger.records
    assert record["Outcome"] == "Failure" and record["AuditEntryId"] == "Directory_crid-1"
    assert record["Detail"] == (f"Not carried out: {SUMMARY}. Microsoft 365 recorded it as failed: "
                                "Insufficient privileges.")
    assert rig.outbox.said == [f"{record['Detail']} (audit record {record['Hash'][:12]})"]
    assert rig.card_updates() == [("card-1", "failed", "Failure at 2026-11-24T10:00:00Z.")]


async def test_the_wait_for_an_entry_counts_from_executing_not_the_last_update() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1", executing_at=NOW.isoformat(),
               updated_at=(NOW + timedelta(seconds=50)).isoformat())
    rig.clock.moment = NOW + timedelta(seconds=60)
    assert await rig.executor.settle_interrupted(rig.outbox_for()) == RecoveryReport(unknown=["a1"])
    window = (NOW - timedelta(seconds=5), NOW + timedelta(minutes=10))
    assert rig.ledger.claims_asked == [("crid-1", *window)] * 2  # as EXECUTING, then (the same pass) as UNKNOWN


async def test_an_unknown_record_without_a_client_request_id_names_none() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id=None)
    rig.clock.moment = NOW + timedelta(minutes=5)
    assert await rig.executor.settle_interrupted(rig.outbox_for()) == RecoveryReport(unknown=["a1"])
    [record] = rig.ledger.records
    assert record["Outcome"] == "Unknown" and record["ClientRequestId"] is None  # never a made-up id
    assert "after 300 s" in record["Detail"]


def _unknown(rig: Rig, **change: Any) -> None:
    rig.action("UNKNOWN", client_request_id="crid-1", executing_at=NOW.isoformat(),
               updated_at=(NOW + timedelta(minutes=5)).isoformat(), **change)


@pytest.mark.parametrize(("entry", "outcome", "state"), [("done", "Success", "DONE"), ("failed", "Failure", "FAILED")])
async def test_an_unknown_action_is_settled_late_by_its_entry_and_the_person_is_told(
    entry: str, outcome: str, state: str
) -> None:
    rig = Rig()
    _unknown(rig)
    rig.clock.moment = NOW + timedelta(days=7) - timedelta(seconds=1)  # still inside the recheck week
    assert await rig.executor.settle_interrupted(rig.outbox_for()) == RecoveryReport()  # no entry yet: stays
    assert rig.state() == "UNKNOWN"
    if entry == "done":
        rig.tools.audit_entries["crid-1"] = "Directory_late"
    else:
        rig.directory.failed_entries["crid-1"] = "Quota exceeded"
    report = await rig.executor.settle_interrupted(rig.outbox_for())
    assert report == (RecoveryReport(done=["a1"]) if entry == "done" else RecoveryReport(failed=["a1"]))
    assert rig.state() == state and rig.tools.runs == []
    [record] = rig.ledger.records
    late = "Update: the Microsoft 365 audit log now shows it. "
    assert record["Outcome"] == outcome and record["Detail"].startswith(late)
    assert rig.outbox.said == [f"{record['Detail']} (audit record {record['Hash'][:12]})"]
    window = (NOW - timedelta(seconds=5), NOW + timedelta(minutes=10))  # from EXECUTING, not the last update
    assert rig.ledger.claims_asked[-1] == ("crid-1", *window)


async def test_an_unknown_action_is_no_longer_checked_after_a_week() -> None:
    rig = Rig()
    _unknown(rig)
    rig.tools.audit_entries["crid-1"] = "Directory_late"
    rig.clock.moment = NOW + timedelta(days=7)
    assert await rig.executor.settle_interrupted(rig.outbox_for()) == RecoveryReport()
    assert rig.state() == "UNKNOWN" and rig.directory.lookups == [] and rig.ledger.records == []


async def test_a_settled_record_names_the_match_it_came_from() -> None:
    rig = Rig()
    action = rig.action("EXECUTING", client_request_id="crid-1")
    await rig.executor._settle(action, AuditMatch("Directory_a", True, matched_by="activity"), rig.outbox, late=False)
    [record] = rig.ledger.records
    assert record["AuditEntryId"] == "Directory_a" and record["ClientRequestId"] == "crid-1"
    assert record["AuditEntryMatchedBy"] == "activity"  # the weaker fallback, said on the record
    assert record["GraphStatus"] is None and record["GraphRequestId"] is None
    assert rig.outbox.said[-1].startswith(f"Done: {SUMMARY}.")
    quiet = Rig()
    await quiet.executor.tell("teams://msg/c1", None, "kept")
    assert quiet.ledger.undelivered == [("teams://msg/c1", "kept", UNREACHABLE)]


# -- sending kept messages again, and a join that fails ------------------------------------------------------------
async def test_kept_messages_are_sent_again_and_each_is_marked_with_what_happened() -> None:
    rig = Rig()
    rig.ledger.undelivered = [("teams://msg/c1", "first", "down"), ("teams://msg/gone", "second", "down"),
                              ("teams://msg/c1", "third", "down")]
    assert await rig.executor.redeliver(rig.outbox_for()) == 2
    assert rig.outbox.said == ["first", "third"]
    assert rig.ledger.delivered == [(0, True, ""), (1, False, UNREACHABLE), (2, True, "")]


@pytest.mark.parametrize(
    ("error", "reason"),
    [(ConnectionError("y" * 300), "y" * 200), (TimeoutError(), "TimeoutError")],
)
async def test_a_kept_message_teams_refuses_again_is_marked_with_the_reason(error: Exception, reason: str) -> None:
    rig = Rig()
    rig.ledger.undelivered = [("teams://msg/c1", "again", "down")]

    async def refusing(conversation: str) -> RefusingOutbox:
        return RefusingOutbox(error)

    assert await rig.executor.redeliver(refusing) == 0  # type: ignore[arg-type]
    assert rig.ledger.delivered == [(0, False, reason)]


async def test_at_most_twenty_kept_messages_are_sent_per_pass() -> None:
    rig = Rig()
    rig.ledger.undelivered = [("teams://msg/c1", f"m{n}", "down") for n in range(21)]
    assert await rig.executor.redeliver(rig.outbox_for()) == 20
    assert rig.outbox.said == [f"m{n}" for n in range(20)]


async def test_a_join_that_fails_leaves_the_action_done_and_is_logged(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("directory down")

    rig.directory.audit_match = broken  # type: ignore[method-assign]
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    [record] = rig.ledger.records
    assert rig.state() == "DONE" and record["Outcome"] == "Success" and len(rig.outbox.said) == 1
    assert _events(ops)[-1] == ("audit.join_failed", {"error": "RuntimeError", "action": "a1"})


# -- how the audit join of an answered write matched its entry ---------------------------------------------------
async def test_an_answered_write_joined_by_its_client_request_id_says_so_on_its_record() -> None:
    rig = Rig()
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    [record] = rig.ledger.records
    assert record["AuditEntryId"] == rig.tools.audit_entries[str(rig.ledger.actions["a1"].client_request_id)]
    assert record["AuditEntryMatchedBy"] == "correlationId"


async def test_an_answered_write_joined_by_the_activity_fallback_says_so_on_its_record() -> None:
    rig = Rig()
    found = rig.directory.audit_match

    async def by_activity(*args: Any, **kwargs: Any) -> AuditMatch | None:
        match = await found(*args, **kwargs)
        return replace(match, matched_by="activity") if match else None

    rig.directory.audit_match = by_activity  # type: ignore[method-assign]
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    [record] = rig.ledger.records
    assert record["AuditEntryId"] and record["AuditEntryMatchedBy"] == "activity"
