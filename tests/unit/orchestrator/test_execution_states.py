"""The action's state transitions, exactly and fast (an in-memory ledger with the store's compare-and-set
rules, fake Graph): what each decision writes, runs, says and shows, including the refusals and races.
This is the test set mutation testing runs against orchestrator/execution.py, requester_decisions.py and
cancellation.py (seconds per mutant)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
from appliance.orchestrator import AidPolicy, outcomes
from appliance.orchestrator.execution import Executor, RecoveryReport, result_shape
from appliance.orchestrator.requester_decisions import RequesterDecisions
from appliance.orchestrator.shared import CardUpdates
from appliance.ports import Outbox
from appliance.types import ActionCard, ClaimedEntries, PendingAction
from appliance_dev.testing.fake_graph import FakeDirectory, FakeTools
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import ops_events as _events
from tests.unit.orchestrator.memory_ledger import MemoryLedger

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
UNREACHABLE = "the conversation cannot be reached (no stored reference)"
ARGS = {"sku": "ENTERPRISEPACK", "user": "sarah.lin@contoso.com"}
SUMMARY = "Assign ENTERPRISEPACK to sarah.lin@contoso.com"
HASH = gate.action_hash("m365_license_assign", ARGS, SUMMARY)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self) -> datetime:
        return self.moment


class Rig:
    """One executor with its ledger, fake Graph, clock and the requester's chat."""

    def __init__(self, **policy: Any) -> None:
        self.ledger, self.tools, self.clock = MemoryLedger(), FakeTools(), Clock()
        self.directory = FakeDirectory(tools=self.tools)
        self.policy = AidPolicy(aid_upn="aid@contoso.com", implementer="MSP", implementer_name="Contoso IT",
                                reconcile_after_seconds=60, **policy)
        cards = CardUpdates(DEFAULT_CATALOG)
        self.executor = Executor(ledger=self.ledger, tools=self.tools, directory=self.directory,  # type: ignore[arg-type]
                                 policy=self.policy, clock=self.clock, cards=cards)
        self.second_approvals: list[tuple[str, str]] = []

        async def second_approval(action: PendingAction, presented_hash: str, outbox: Outbox) -> None:
            self.second_approvals.append((action.id, presented_hash))

        self.decisions = RequesterDecisions(ledger=self.ledger, policy=self.policy, clock=self.clock,  # type: ignore[arg-type]
                                            cards=cards, run=self.executor.execute, second_approval=second_approval)
        self.outbox = RecordingOutbox()

    async def confirm(self, action: PendingAction | None, actor: str, presented: str) -> None:
        await self.decisions.confirm(action, actor, presented, self.outbox, conversation_ref="teams://msg/c1")

    async def cancel(self, action: PendingAction | None, actor: str) -> None:
        await self.decisions.cancel(action, actor, self.outbox, conversation_ref="teams://msg/c1")

    def action(self, state: str = "AWAITING", **change: Any) -> PendingAction:
        action = PendingAction(
            id="a1", conversation_ref="teams://msg/c1", requester_id="doug-oid", tool="m365_license_assign",
            arguments_json=gate.canonical_arguments(ARGS), summary=SUMMARY, action_hash=HASH, state=state,
            client_request_id=None, confirmed_by=None, confirmed_at=None, created_at=NOW.isoformat(),
            expires_at=(NOW + timedelta(minutes=10)).isoformat(), updated_at=NOW.isoformat(), ended_at=None,
            requester_upn="doug@contoso.com", orchestrator="scripted", card_activity_id="card-1",
        )
        return self.ledger.add(replace(action, **change))

    def outbox_for(self) -> Callable[[str], Awaitable[RecordingOutbox | None]]:
        async def find(conversation: str) -> RecordingOutbox | None:
            return self.outbox if conversation == "teams://msg/c1" else None

        return find

    def card_updates(self) -> list[tuple[str, str, str]]:
        return [(activity, card.status, card.status_line) for activity, card in self.outbox.updates]

    def state(self, action_id: str = "a1") -> str:
        return self.ledger.actions[action_id].state


# -- confirm ------------------------------------------------------------------------------------------
async def test_a_confirmation_confirms_runs_once_records_and_reports() -> None:
    rig = Rig()
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert rig.state() == "DONE"
    assert rig.ledger.calls == ["confirm", "CONFIRMED->EXECUTING", "finish:DONE", "EXECUTING->DONE"]
    [(tool, arguments, crid)] = rig.tools.runs
    assert (tool, arguments) == ("m365_license_assign", ARGS) and UUID.match(crid)
    assert rig.ledger.actions["a1"].client_request_id == crid  # committed before Graph was called
    [record] = rig.ledger.records
    assert record["Outcome"] == "Success" and record["ClientRequestId"] == crid
    assert (record["Implementer"], record["ImplementerName"]) == ("MSP", "Contoso IT")
    assert record["ConfirmedBy"] == "doug-oid" and record["ConfirmedAt"] == "2026-11-24T10:00:00Z"
    assert record["ExecutedAt"] == "2026-11-24T10:00:00Z"
    assert record["AuditEntryId"] == rig.tools.audit_entries[crid]  # joined right after, from the directory
    assert rig.ledger.turns == [("teams://msg/c1", "m365_license_assign(sku=ENTERPRISEPACK, "
                                                   "user=sarah.lin@contoso.com) -> DONE")]
    assert rig.card_updates() == [("card-1", "confirmed", "Confirmed at 2026-11-24T10:00:00Z; running now."),
                                  ("card-1", "done", "Success at 2026-11-24T10:00:00Z.")]
    assert rig.outbox.said == [f"m365_license_assign done (audit record {record['Hash'][:12]})"]


@pytest.mark.parametrize(
    ("actor", "presented", "moment", "said"),
    [
        ("eve-oid", HASH, NOW, "Only the person who asked for this change can confirm it."),
        ("doug-oid", "0" * 64, NOW, "That confirmation does not match the action on the card; nothing ran."),
    ],
)
async def test_a_refused_confirmation_says_why_and_changes_nothing(
    actor: str, presented: str, moment: datetime, said: str
) -> None:
    rig = Rig()
    rig.clock.moment = moment
    await rig.confirm(rig.action(), actor, presented)
    assert rig.outbox.said == [said] and rig.state() == "AWAITING"
    assert rig.ledger.calls == [] and rig.tools.runs == [] and rig.outbox.updates == []


async def test_an_unknown_action_is_answered_and_nothing_is_written() -> None:
    rig = Rig()
    await rig.confirm(None, "doug-oid", HASH)
    assert rig.outbox.said == ["I can't find that request. Ask again and I'll prepare it anew."]
    assert rig.ledger.calls == []


async def test_a_late_confirmation_expires_the_action_and_its_card() -> None:
    rig = Rig()
    rig.clock.moment = NOW + timedelta(minutes=10)
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert rig.state() == "EXPIRED" and rig.ledger.calls == ["AWAITING->EXPIRED"]
    assert rig.card_updates() == [("card-1", "expired", "Expired before it was confirmed; nothing ran.")]
    assert rig.outbox.said == ["This request expired before it was confirmed; nothing ran. Ask again."]
    assert rig.tools.runs == []


async def test_a_late_confirmation_of_an_action_that_moved_on_leaves_its_card_alone() -> None:
    rig = Rig()
    action = rig.action()
    rig.ledger.actions["a1"] = replace(action, state="CANCELLED")  # cancelled in another turn meanwhile
    rig.clock.moment = NOW + timedelta(minutes=10)
    await rig.confirm(action, "doug-oid", HASH)
    assert rig.state() == "CANCELLED" and rig.outbox.updates == []


async def test_a_confirmation_that_loses_a_race_in_the_store_is_told_what_happened() -> None:
    rig = Rig()
    action = rig.action()
    rig.ledger.actions["a1"] = replace(action, state="CONFIRMED")  # the other press won
    await rig.confirm(action, "doug-oid", HASH)
    assert rig.outbox.said == ["It was already confirmed and is being carried out."]
    assert rig.tools.runs == [] and rig.ledger.calls == ["confirm"]


async def test_a_confirmation_the_store_refuses_for_no_visible_reason_says_nothing_ran() -> None:
    rig = Rig()
    rig.ledger.refuse_confirm = True
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert rig.outbox.said == ["That confirmation could not be applied; nothing ran."]
    assert rig.state() == "AWAITING" and rig.tools.runs == []


async def test_a_two_person_tool_waits_for_an_approver_after_the_requesters_confirmation() -> None:
    rig = Rig(two_person_tools=("m365_license_assign",), approvers=("eve@contoso.com",))
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert rig.second_approvals == [("a1", HASH)]  # Approvals records it and asks the approvers
    assert rig.state() == "AWAITING" and rig.ledger.calls == [] and rig.tools.runs == []
    assert rig.outbox.updates == [] and rig.outbox.said == []


# -- cancel -------------------------------------------------------------------------------------------
async def test_a_cancellation_cancels_updates_the_card_and_says_so() -> None:
    rig = Rig()
    await rig.cancel(rig.action(), "doug-oid")
    assert rig.state() == "CANCELLED" and rig.ledger.calls == ["AWAITING->CANCELLED"]
    assert rig.card_updates() == [("card-1", "cancelled", "Cancelled at 2026-11-24T10:00:00Z.")]
    assert rig.outbox.said == [f"Cancelled: {SUMMARY}. Nothing was changed."]


async def test_refused_and_raced_cancellations() -> None:
    rig = Rig()
    await rig.cancel(rig.action(), "eve-oid")
    await rig.cancel(None, "doug-oid")
    assert rig.outbox.said == ["Only the person who asked for this change can cancel it.",
                               "I can't find that request."]
    assert rig.state() == "AWAITING" and rig.ledger.calls == []
    stale = rig.action()
    rig.ledger.actions["a1"] = replace(stale, state="PROPOSED")  # it moved between reading and cancelling
    await rig.cancel(stale, "doug-oid")
    assert rig.outbox.last == "That request changed while you answered; nothing was cancelled. Check its card."
    assert rig.outbox.updates == []


# -- execute ------------------------------------------------------------------------------------------
async def test_execute_runs_only_a_confirmed_action() -> None:
    rig = Rig()
    for state in ("AWAITING", "EXECUTING", "DONE", "CANCELLED"):
        await rig.executor.execute(rig.action(state), rig.outbox)
    assert rig.tools.runs == [] and rig.outbox.said == [] and rig.ledger.records == []


async def test_a_second_execute_of_the_same_action_never_calls_graph_again() -> None:
    rig = Rig()
    action = rig.action("CONFIRMED")
    await rig.executor.execute(action, rig.outbox)
    await rig.executor.execute(action, rig.outbox)  # the stale copy still says CONFIRMED
    assert len(rig.tools.runs) == 1 and len(rig.ledger.records) == 1 and len(rig.outbox.said) == 1


async def test_a_lost_graph_call_stays_executing_and_is_never_guessed() -> None:
    rig = Rig()
    rig.tools.raises.add("m365_license_assign")
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    assert rig.state() == "EXECUTING" and rig.ledger.records == [] and len(rig.tools.runs) == 1
    assert rig.outbox.said == ["I lost track of that change while it ran. It will not be sent again: I'm checking "
                               "the Microsoft 365 audit log for what happened and will tell you."]
    assert rig.outbox.said == [outcomes.CHECKING] and rig.ledger.undelivered == []
    assert rig.executor._running == set()  # not "running here" any more: upkeep may settle it
    quiet = Rig()
    quiet.tools.raises.add("m365_license_assign")
    await quiet.executor.execute(quiet.action("CONFIRMED"), None)  # no chat to tell: still no guess
    assert quiet.state() == "EXECUTING" and quiet.ledger.records == []
    assert quiet.ledger.undelivered == [("teams://msg/c1", outcomes.CHECKING, UNREACHABLE)]  # kept to send later


async def test_a_failed_graph_call_is_recorded_failed_without_a_join() -> None:
    rig = Rig()
    rig.tools.outcomes["m365_license_assign"] = "failed"
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    [record] = rig.ledger.records
    assert rig.state() == "FAILED" and record["Outcome"] == "Failure" and record["GraphStatus"] == 400
    assert "AuditEntryId" not in record or record["AuditEntryId"] is None
    assert rig.card_updates() == [("card-1", "failed", "Failure at 2026-11-24T10:00:00Z.")]
    assert rig.ledger.turns[0][1].endswith("-> FAILED")


async def test_without_a_chat_the_action_still_finishes_and_its_message_is_kept_for_later() -> None:
    rig = Rig()
    await rig.executor.execute(rig.action("CONFIRMED"), None)
    [record] = rig.ledger.records
    assert rig.state() == "DONE" and rig.outbox.said == [] and rig.outbox.updates == []
    assert rig.ledger.undelivered == [
        ("teams://msg/c1", f"m365_license_assign done (audit record {record['Hash'][:12]})", UNREACHABLE)]


async def test_a_card_that_cannot_be_updated_does_not_stop_the_action() -> None:
    rig = Rig()

    async def broken(activity_id: str, card: ActionCard) -> None:
        raise ConnectionError("Teams is down")

    rig.outbox.update_card = broken  # type: ignore[method-assign]
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert rig.state() == "DONE" and len(rig.outbox.said) == 1


async def test_an_action_without_a_card_gets_no_card_update() -> None:
    rig = Rig()
    await rig.confirm(rig.action(card_activity_id=None), "doug-oid", HASH)
    assert rig.state() == "DONE" and rig.outbox.updates == []


# -- upkeep and recovery ----------------------------------------------------------------------------------
async def test_expire_due_expires_and_updates_each_reachable_card() -> None:
    rig = Rig()
    rig.action()
    rig.action(id="a2", conversation_ref="teams://msg/gone")
    rig.clock.moment = NOW + timedelta(minutes=10)
    assert await rig.executor.expire_due(rig.outbox_for()) == 2
    assert rig.state("a1") == rig.state("a2") == "EXPIRED"
    assert rig.card_updates() == [("card-1", "expired", "Expired before it was confirmed; nothing ran.")]


async def test_recovery_runs_a_confirmed_action_once_and_fails_an_expired_one() -> None:
    rig = Rig()
    rig.action("CONFIRMED", id="fresh", expires_at=(NOW + timedelta(seconds=1)).isoformat())
    rig.action("CONFIRMED", id="stale", expires_at=NOW.isoformat())
    report = await rig.executor.recover(rig.outbox_for())
    assert report == RecoveryReport(done=[], failed=["stale"], waiting=[], resumed=["fresh"])
    assert rig.state("fresh") == "DONE" and rig.state("stale") == "FAILED" and len(rig.tools.runs) == 1
    assert (f"Not carried out: {SUMMARY}. The Aid restarted before it ran and the confirmation has expired; "
            "nothing was changed. Ask again if needed.") in rig.outbox.said


async def test_an_interrupted_action_graph_recorded_is_done_with_its_entry() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1")
    rig.tools.audit_entries["crid-1"] = "Directory_7"
    report = await rig.executor.settle_interrupted(rig.outbox_for())
    assert report.done == ["a1"] and rig.state() == "DONE" and rig.tools.runs == []
    [record] = rig.ledger.records
    assert record["AuditEntryId"] == "Directory_7" and record["Outcome"] == "Success"
    assert record["Detail"] == f"Done: {SUMMARY}. (Confirmed from the Microsoft 365 audit log.)"
    assert rig.outbox.said == [f"{record['Detail']} (audit record {record['Hash'][:12]})"]


async def test_an_interrupted_action_graph_never_recorded_waits_then_is_unknown_without_a_rerun() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1", updated_at=NOW.isoformat())
    rig.clock.moment = NOW + timedelta(seconds=59)
    assert (await rig.executor.settle_interrupted(rig.outbox_for())).waiting == ["a1"]
    assert rig.state() == "EXECUTING" and rig.outbox.said == []
    rig.clock.moment = NOW + timedelta(seconds=60)  # reconcile_after_seconds has passed
    report = await rig.executor.settle_interrupted(rig.outbox_for())
    assert report == RecoveryReport(unknown=["a1"]) and rig.state() == "UNKNOWN" and rig.tools.runs == []
    [record] = rig.ledger.records  # never "nothing was changed": it may have reached Graph
    assert record["Outcome"] == "Unknown" and record["Detail"] == (
        f"I can't confirm yet whether this happened: {SUMMARY}. Microsoft 365's audit log has no entry for it "
        "after 60 s (entries can take minutes to appear), and it was not sent again. I'll keep checking and tell "
        "you when it shows up; its audit record says Unknown until then.")
    assert rig.outbox.said == [f"{record['Detail']} (audit record {record['Hash'][:12]})"]
    assert rig.card_updates() == [("card-1", "unknown", "Unknown at 2026-11-24T10:01:00Z.")]


async def test_an_interrupted_action_without_a_client_request_id_is_unknown_once_old() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id=None)
    rig.clock.moment = NOW + timedelta(minutes=5)
    assert await rig.executor.settle_interrupted(rig.outbox_for()) == RecoveryReport(unknown=["a1"])
    assert rig.state() == "UNKNOWN" and rig.tools.runs == [] and rig.ledger.records[-1]["Outcome"] == "Unknown"


async def test_upkeep_leaves_an_action_running_here_alone() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1")
    rig.executor._running.add("a1")
    rig.clock.moment = NOW + timedelta(days=1)
    report = await rig.executor.settle_interrupted(rig.outbox_for())
    assert report == RecoveryReport() and rig.state() == "EXECUTING"


def test_a_tool_result_is_recorded_by_its_shape_only() -> None:
    shape = result_shape("m365_user_get", {"user": "a@b.c", "days": 7}, "done")
    assert shape == "m365_user_get(days=7, user=a@b.c) -> done"
    assert result_shape("m365_license_list", {}, "failed") == "m365_license_list() -> failed"


# -- what the operator's log says, and what is written from where (kills execution.py's remaining mutants) ------


async def test_each_step_of_a_run_is_logged_for_the_operator(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    await rig.confirm(rig.action(), "doug-oid", HASH)
    [(_, _, crid)] = rig.tools.runs
    tool = "m365_license_assign"
    assert _events(ops) == [
        ("action.confirmed", {"tool": tool, "action": "a1"}),
        ("action.executing", {"tool": tool, "action": "a1", "client_request_id": crid}),
        ("action.finished", {"tool": tool, "action": "a1", "outcome": "Success", "status": 200}),
    ]


async def test_a_lost_graph_call_is_logged_with_its_error_type(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    rig.tools.raises.add("m365_license_assign")
    await rig.executor.execute(rig.action("CONFIRMED"), None)
    assert _events(ops)[-2:] == [
        ("action.outcome_unknown", {"tool": "m365_license_assign", "action": "a1", "error": "ConnectionResetError"}),
        ("message.undelivered", {"conversation": "teams://msg/c1"}),
    ]


async def test_recovery_settles_everything_tells_each_chat_and_logs_the_counts(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    rig.action("CONFIRMED", id="fresh", expires_at=(NOW + timedelta(seconds=1)).isoformat())
    rig.action("CONFIRMED", id="stale", expires_at=NOW.isoformat())
    rig.action("EXECUTING", id="landed", client_request_id="crid-1")
    rig.action("EXECUTING", id="in-flight", client_request_id="crid-2")
    rig.tools.audit_entries["crid-1"] = "Directory_1"
    report = await rig.executor.recover(rig.outbox_for())
    assert report == RecoveryReport(done=["landed"], failed=["stale"], waiting=["in-flight"], resumed=["fresh"])
    said = "\n".join(rig.outbox.said)
    assert "m365_license_assign done (audit record" in said  # the resumed action's outcome reaches its chat
    assert f"Done: {SUMMARY}. (Confirmed from the Microsoft 365 audit log.)" in said
    assert _events(ops)[-1] == ("recovery.done", {"count": 3, "pending": 1})


async def test_the_record_is_written_from_the_ledgers_row_not_the_callers_copy() -> None:
    rig = Rig()
    confirmed = rig.action("CONFIRMED", confirmed_by="doug-oid", confirmed_at=NOW.isoformat())
    await rig.executor.execute(replace(confirmed, confirmed_by=None, confirmed_at=None), rig.outbox)
    [record] = rig.ledger.records
    assert record["ConfirmedBy"] == "doug-oid" and record["ConfirmedAt"] == "2026-11-24T10:00:00Z"


def _unjoined(rig: Rig, count: int) -> list[dict[str, Any]]:
    earlier = [{"Outcome": "Success", "ClientRequestId": f"crid-{n}", "AuditEntryId": None,
                "ExecutedAt": "2026-11-24T09:59:00Z"} for n in range(count)]  # the join searches around it
    for record in earlier:
        rig.tools.audit_entries[record["ClientRequestId"]] = f"Directory_{record['ClientRequestId']}"
    rig.ledger.records.extend(earlier)
    return earlier


async def test_a_done_action_joins_at_most_five_audit_entries() -> None:
    rig = Rig()
    earlier = _unjoined(rig, 6)
    await rig.executor.execute(rig.action("CONFIRMED"), rig.outbox)
    joined = [r for r in rig.ledger.records if r.get("AuditEntryId")]
    assert joined == earlier[:5]  # the oldest five; the rest wait for the upkeep loop


async def test_only_a_done_action_without_its_entry_joins_entries() -> None:
    failed = Rig()
    failed.tools.outcomes["m365_license_assign"] = "failed"
    [earlier] = _unjoined(failed, 1)
    await failed.executor.execute(failed.action("CONFIRMED"), failed.outbox)
    assert earlier["AuditEntryId"] is None
    settled = Rig()
    [earlier] = _unjoined(settled, 1)
    settled.action("EXECUTING", client_request_id="crid-x")
    settled.tools.audit_entries["crid-x"] = "Directory_x"
    await settled.executor.settle_interrupted(settled.outbox_for())
    assert earlier["AuditEntryId"] is None and settled.ledger.records[-1]["AuditEntryId"] == "Directory_x"


async def test_a_settled_action_is_recorded_with_the_entry_it_was_settled_by_in_one_lookup() -> None:
    rig = Rig()
    rig.action("EXECUTING", client_request_id="crid-1")
    rig.tools.audit_entries["crid-1"] = "Directory_7"
    await rig.executor.settle_interrupted(rig.outbox_for())
    # searched from five seconds before EXECUTING (clock skew) to ten minutes after it (the write's window)
    window = (NOW - timedelta(seconds=5), NOW + timedelta(minutes=10))
    assert rig.directory.lookups == [("m365_license_assign", ARGS, "crid-1", *window, ClaimedEntries())]
    assert rig.ledger.claims_asked == [("crid-1", *window)]  # the other writes' entries, asked for this window
    assert rig.ledger.records[-1]["AuditEntryId"] == "Directory_7"


async def test_an_entry_joined_to_another_write_never_settles_this_one() -> None:
    rig = Rig()
    [earlier] = _unjoined(rig, 1)
    earlier["AuditEntryId"] = "Directory_e"  # the earlier write on the same user, already joined to its entry
    rig.action("EXECUTING", client_request_id="crid-1")
    rig.tools.audit_entries["crid-1"] = "Directory_e"  # the only entry in the window is the earlier write's
    await rig.executor.settle_interrupted(rig.outbox_for())
    claimed = ClaimedEntries(frozenset({"Directory_e"}), frozenset({earlier["ClientRequestId"]}))
    assert [lookup[-1] for lookup in rig.directory.lookups] == [claimed]
    assert rig.ledger.actions["a1"].state == "EXECUTING" and rig.ledger.records == [earlier]  # not settled



# -- the requester's decisions, typed and logged (kills requester_decisions.py's and cancellation.py's mutants) --
async def test_refusals_and_cancellations_are_logged_for_the_operator(ops: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    await rig.confirm(rig.action(), "eve-oid", HASH)
    await rig.confirm(None, "doug-oid", HASH)
    await rig.cancel(rig.action(), "doug-oid")
    assert _events(ops) == [
        ("action.confirm_refused", {"reason": "not_requester", "action": "a1"}),
        ("action.confirm_refused", {"reason": "unknown_action", "action": None}),
        ("action.cancelled", {"tool": "m365_license_assign", "action": "a1"}),
    ]


async def test_a_typed_confirmation_runs_only_with_the_cards_code() -> None:
    async def typed(rig: Rig, code: str | None) -> None:
        await rig.decisions.confirm(rig.ledger.actions["a1"], "doug-oid", HASH, rig.outbox,
                                    conversation_ref="teams://msg/c1", typed=True, code=code)

    rig = Rig()
    rig.action(confirm_code="482913")
    await typed(rig, None)
    await typed(rig, "111111")
    assert rig.state() == "AWAITING" and rig.tools.runs == []
    first_words = [said.split(",")[0] for said in rig.outbox.said]
    assert first_words == ["To confirm by typing", "That code is not the one on the card; nothing ran. Check the card"]
    await typed(rig, "482913")
    assert rig.state() == "DONE" and len(rig.tools.runs) == 1


async def test_a_typed_confirmation_the_store_refuses_is_judged_again_with_its_code() -> None:
    rig = Rig()
    rig.ledger.refuse_confirm = True
    await rig.decisions.confirm(rig.action(confirm_code="482913"), "doug-oid", HASH, rig.outbox,
                                conversation_ref="teams://msg/c1", typed=True, code="482913")
    assert rig.outbox.said == ["That confirmation could not be applied; nothing ran."]


async def test_the_second_approval_is_asked_with_the_requesters_chat() -> None:
    rig = Rig(two_person_tools=("m365_license_assign",), approvers=("eve@contoso.com",))
    seen: list[object] = []

    async def second_approval(action: PendingAction, presented_hash: str, outbox: Outbox) -> None:
        seen.append(outbox)

    rig.decisions.second_approval = second_approval
    await rig.confirm(rig.action(), "doug-oid", HASH)
    assert seen == [rig.outbox]
