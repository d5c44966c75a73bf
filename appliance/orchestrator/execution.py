"""`Executor`: confirmed actions run once, as the Aid, and leave an audit record.

EXECUTING (with the client-request-id) is committed before the Graph call; DONE/FAILED and the audit
record are committed together after it. After a crash, `recover` never re-runs an EXECUTING action
blindly: it looks for the directory audit entry Graph wrote under that client-request-id and records
the action DONE if it is there, FAILED (not re-run) once the entry has had time to appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance import gate, ops_log
from appliance.audit import join_audit_entries, record_for, utc_stamp
from appliance.audit.closures import ClosedOutcome, closed_action_record, refused_request_record
from appliance.catalog import Catalog
from appliance.orchestrator.approvals import Approvals
from appliance.orchestrator.policy import AidPolicy
from appliance.ports import Directory, Ledger, Outbox, ToolRunner
from appliance.types import ExecutionResult, PendingAction

OutboxFor = Callable[[str], Awaitable[Outbox | None]]
"""The outbox of a conversation by its ref, for proactive messages (None if it cannot be reached)."""


def result_shape(tool: str, arguments: Mapping[str, Any], outcome: str) -> str:
    """The conversation turn that records a tool result's *shape*, never its data:
    `m365_user_get(user=sarah@yourco.com) -> done` (the addresses the person wrote, the outcome)."""
    shown = ", ".join(f"{key}={value}" for key, value in sorted(arguments.items()))
    return f"{tool}({shown}) -> {outcome}"


@dataclass
class RecoveryReport:
    """What `recover` found after a restart."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)


class Executor:
    """Confirmation, cancellation, execution, expiry and recovery of pending actions."""

    def __init__(
        self, *, catalog: Catalog, ledger: Ledger, tools: ToolRunner, directory: Directory, policy: AidPolicy,
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self.catalog, self.ledger, self.tools = catalog, ledger, tools
        self.directory, self.policy, self.clock = directory, policy, clock
        self.outbox_for: OutboxFor | None = None  # set by wiring once Teams is up (proactive messages)
        self._running: set[str] = set()  # EXECUTING here and now: never settled as "interrupted"
        self.approvals = Approvals(self, directory)

    @property
    def in_flight(self) -> set[str]:
        """Ids of the actions whose Graph call this process is making right now."""
        return set(self._running)

    # -- decisions ---------------------------------------------------------------------------------
    async def confirm(self, action: PendingAction | None, actor_id: str, presented_hash: str, outbox: Outbox) -> None:
        """Confirm `action` for `actor_id` if the gate allows it, then run it."""
        verdict = gate.judge_confirmation(action, actor_id=actor_id, presented_hash=presented_hash,
                                          moment=self.clock())  # fmt: skip
        if action is None or not verdict.allowed:
            ops_log.event("action.confirm_refused", reason=verdict.reason, action=action.id if action else None)
            if action is not None and verdict.reason == "expired":
                await self._expire(action, outbox)
            else:
                await self.record_refused_answer(action, actor_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        if action.tool in self.policy.two_person_tools:
            await self.approvals.requester_confirmed(action, presented_hash, outbox)
            return
        moment = self.clock()
        if not await self.ledger.confirm(action.id, requester_id=actor_id, action_hash=presented_hash, moment=moment):
            now_state = await self.ledger.get_action(action.id)
            again = gate.judge_confirmation(now_state, actor_id=actor_id, presented_hash=presented_hash,
                                            moment=self.clock())  # fmt: skip
            await outbox.say(again.message or "That confirmation could not be applied; nothing ran.")
            return
        confirmed = await self.ledger.get_action(action.id)
        assert confirmed is not None
        ops_log.event("action.confirmed", tool=confirmed.tool, action=confirmed.id)
        await self.update_card(confirmed, outbox, "confirmed", f"Confirmed at {utc_stamp(moment)}; running now.")
        await self.execute(confirmed, outbox)

    async def cancel(self, action: PendingAction | None, actor_id: str, outbox: Outbox) -> None:
        """Cancel `action` for `actor_id` if the gate allows it."""
        verdict = gate.judge_cancellation(action, actor_id=actor_id, moment=self.clock())
        if action is None or not verdict.allowed:
            await self.record_refused_answer(action, actor_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        cancelled = self.closed_record("Cancelled", f"Cancelled by the requester: {action.summary}. Nothing ran.")
        if await self.ledger.close_action(action.id, action.state, "CANCELLED", cancelled) is None:
            await outbox.say("That request changed while you answered; nothing was cancelled. Check its card.")
            return
        ops_log.event("action.cancelled", tool=action.tool, action=action.id)
        await self.update_card(action, outbox, "cancelled", f"Cancelled at {utc_stamp(self.clock())}.")
        await outbox.say(f"Cancelled: {action.summary}. Nothing was changed.")

    # -- running -----------------------------------------------------------------------------------
    async def execute(self, action: PendingAction, outbox: Outbox | None) -> None:
        """CONFIRMED -> EXECUTING (committed, with a fresh client-request-id) -> Graph -> DONE/FAILED + record."""
        client_request_id = str(uuid.uuid4())
        if not await self.ledger.transition(action.id, "CONFIRMED", "EXECUTING", client_request_id=client_request_id):
            return  # another turn is already running it
        ops_log.event("action.executing", tool=action.tool, action=action.id, client_request_id=client_request_id)
        self._running.add(action.id)
        try:
            try:
                result = await self.tools.run(action.tool, action.arguments, client_request_id)
            except Exception as exc:  # the outcome is unknown: leave EXECUTING for recovery, never guess
                ops_log.event("action.outcome_unknown", tool=action.tool, action=action.id, error=type(exc).__name__)
                if outbox is not None:
                    await outbox.say("I lost track of that change while it ran. I'll check the Microsoft 365 audit "
                                     "log and tell you whether it happened; it will not be run twice.")  # fmt: skip
                return
            await self._finish(action, result, outbox)
        finally:
            self._running.discard(action.id)

    async def _finish(self, action: PendingAction, result: ExecutionResult, outbox: Outbox | None,
                      detail: str | None = None, audit_entry_id: str | None = None) -> None:  # fmt: skip
        running = await self.ledger.get_action(action.id) or action
        record = record_for(
            running, result, executed_at=self.clock(), implementer=self.policy.implementer,
            implementer_name=self.policy.implementer_name, detail=detail, audit_entry_id=audit_entry_id,
        )  # fmt: skip
        final = "DONE" if result.outcome == "done" else "FAILED"
        tool_turn = result_shape(action.tool, action.arguments, final)
        stored = await self.ledger.finish_action(action.id, final, record.fields(), tool_turn)
        if stored is None:
            return  # finished elsewhere (recovery raced a late reply): its record already exists
        ops_log.event("action.finished", tool=action.tool, action=action.id, outcome=record.Outcome,
                      status=result.status)  # fmt: skip
        if outbox is not None:
            status = "done" if final == "DONE" else "failed"
            await self.update_card(running, outbox, status, f"{record.Outcome} at {record.ExecutedAt}.")
            await outbox.say(f"{detail or result.message} (audit record {str(stored['Hash'])[:12]})")
        if audit_entry_id is None and final == "DONE":
            await join_audit_entries(self.ledger, self.directory, limit=5)

    # -- upkeep ------------------------------------------------------------------------------------
    async def expire_due(self, outbox_for: OutboxFor) -> int:
        """Expire overdue waiting actions and update their cards in place."""
        expired = await self.ledger.expire_due(
            self.clock(), self.closed_record("Expired", "Expired before it was confirmed; nothing ran.")
        )
        for action in expired:
            ops_log.event("action.expired", tool=action.tool, action=action.id)
            outbox = await outbox_for(action.conversation_ref)
            if outbox is not None:
                await self.update_card(action, outbox, "expired", "Expired before it was confirmed; nothing ran.")
        return len(expired)

    async def recover(self, outbox_for: OutboxFor) -> RecoveryReport:
        """At start-up: finish what was confirmed but not started; settle what was running."""
        report = RecoveryReport()
        for action in await self.ledger.actions_in_state("CONFIRMED"):
            outbox = await outbox_for(action.conversation_ref)
            if gate.is_expired(action, self.clock()):
                detail = "Not carried out: the Aid restarted before it ran and the confirmation expired."
                await self.ledger.close_action(action.id, "CONFIRMED", "FAILED", self.closed_record("Failure", detail))
                report.failed.append(action.id)
                if outbox is not None:
                    await outbox.say(f"Not carried out: {action.summary}. The Aid restarted before it ran and the "
                                     "confirmation has expired; nothing was changed. Ask again if needed.")  # fmt: skip
            else:
                report.resumed.append(action.id)
                await self.execute(action, outbox)
        await self.settle_interrupted(outbox_for, report)
        ops_log.event("recovery.done", count=len(report.done) + len(report.failed) + len(report.resumed),
                      pending=len(report.waiting))  # fmt: skip
        return report

    async def settle_interrupted(self, outbox_for: OutboxFor, report: RecoveryReport | None = None) -> RecoveryReport:
        """EXECUTING actions this process is not running (a crash, a lost outcome): DONE if Graph's directory
        audit has the write, FAILED once it has had `reconcile_after_seconds` to appear. The upkeep loop
        calls this every few seconds; an action whose Graph call is still in flight here is left alone."""
        report = report or RecoveryReport()
        for action in await self.ledger.actions_in_state("EXECUTING"):
            if action.id not in self._running:
                await self._settle_executing(action, report, outbox_for)
        return report

    async def _settle_executing(self, action: PendingAction, report: RecoveryReport, outbox_for: OutboxFor) -> None:
        crid = action.client_request_id or ""
        entry = await self.directory.audit_entry_for(crid) if crid else None
        age = self.clock() - datetime.fromisoformat(action.updated_at)
        if entry is None and age < timedelta(seconds=self.policy.reconcile_after_seconds):
            report.waiting.append(action.id)
            return
        outbox = await outbox_for(action.conversation_ref)
        if entry is not None:
            result = ExecutionResult(action.tool, "done", crid)
            detail = f"Done: {action.summary}. (Confirmed from the Microsoft 365 audit log after an interruption.)"
            report.done.append(action.id)
        else:
            result = ExecutionResult(action.tool, "failed", crid)
            detail = (f"Not carried out: {action.summary}. It was interrupted before Microsoft 365 recorded it, "
                      "and it was not run again. Ask again if you still need it.")  # fmt: skip
            report.failed.append(action.id)
        await self._finish(action, result, outbox, detail=detail, audit_entry_id=entry)

    async def _expire(self, action: PendingAction, outbox: Outbox) -> None:
        expired = self.closed_record("Expired", "Expired before it was confirmed; nothing ran.")
        if await self.ledger.close_action(action.id, action.state, "EXPIRED", expired) is not None:
            ops_log.event("action.expired", tool=action.tool, action=action.id)
            await self.update_card(action, outbox, "expired", "Expired before it was confirmed; nothing ran.")

    # -- records of what never reached Graph (audit/closures.py) --------------------------------------
    def closed_record(self, outcome: ClosedOutcome, detail: str, actor_id: str | None = None,
                      reason: str | None = None) -> Callable[[PendingAction], dict[str, Any]]:  # fmt: skip
        """The audit record of an action that ends (or is refused) without a Graph call, built from the
        action as the store holds it at that moment."""

        def record_of(action: PendingAction) -> dict[str, Any]:
            return closed_action_record(
                action, outcome, moment=self.clock(), implementer=self.policy.implementer,
                implementer_name=self.policy.implementer_name, detail=detail, actor_id=actor_id, reason=reason,
            )  # fmt: skip

        return record_of

    async def record_refused_answer(self, action: PendingAction | None, actor_id: str, reason: str,
                                    message: str) -> None:  # fmt: skip
        """A refused confirmation, cancellation or approval leaves a record (who pressed, which action, why)."""
        if action is None:
            record = refused_request_record(
                requester_id=actor_id, requester_upn=None, conversation_ref="", reason=reason, moment=self.clock(),
                implementer=self.policy.implementer, implementer_name=self.policy.implementer_name, detail=message,
            )  # fmt: skip
        else:
            record = self.closed_record("Refused", message, actor_id=actor_id, reason=reason)(action)
        await self.ledger.append_record(record)

    async def update_card(self, action: PendingAction, outbox: Outbox, status: str, line: str) -> None:
        if not action.card_activity_id:
            return
        card = gate.decided(gate.card_for(action, self.catalog[action.tool]), status, line)
        try:
            await outbox.update_card(action.card_activity_id, card)
        except Exception as exc:  # an old card that can't be updated must not stop the action's own path
            ops_log.event("card.update_failed", error=type(exc).__name__, action=action.id)
