"""`Executor`: confirmed actions run once, as the Aid, and leave an audit record.

EXECUTING (with the client-request-id) is committed before the Graph call; DONE/FAILED and the audit
record are committed together after it. After a crash, `recover` never re-runs an EXECUTING action
blindly: it looks for the directory audit entry Graph wrote under that client-request-id and records
the action DONE if it is there, FAILED (not re-run) once the entry has had time to appear.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance import gate, ops_log
from appliance.audit import join_audit_entries, record_for
from appliance.orchestrator.closing_records import ClosingRecords
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import EXPIRED_LINE, CardUpdates, OutboxFor
from appliance.ports import Directory, Ledger, Outbox, ToolRunner
from appliance.types import ActionState, DecidedStatus, ExecutionResult, PendingAction


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
    """Execution, expiry and recovery of confirmed and waiting actions."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        tools: ToolRunner,
        directory: Directory,
        policy: AidPolicy,
        clock: Callable[[], datetime],
        cards: CardUpdates,
    ) -> None:
        self.ledger, self.tools, self.directory = ledger, tools, directory
        self.policy, self.clock, self.cards = policy, clock, cards
        self._running: set[str] = set()  # EXECUTING here and now: never settled as "interrupted"
        self.closing = ClosingRecords(ledger, policy, clock)

    @property
    def in_flight(self) -> set[str]:
        """Ids of the actions whose Graph call this process is making right now."""
        return set(self._running)

    # -- running -----------------------------------------------------------------------------------
    async def execute(self, action: PendingAction, outbox: Outbox | None) -> None:
        """CONFIRMED -> EXECUTING (committed, with a fresh client-request-id) -> Graph -> DONE/FAILED + record."""
        client_request_id = str(uuid.uuid4())
        moved = await self.ledger.transition(
            action.id, ActionState.CONFIRMED, ActionState.EXECUTING, client_request_id=client_request_id
        )
        if not moved:
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
                                     "log and tell you whether it happened; it will not be run twice.")
                return
            await self._finish(action, result, outbox)
        finally:
            self._running.discard(action.id)

    async def _finish(self, action: PendingAction, result: ExecutionResult, outbox: Outbox | None,
                      detail: str | None = None, audit_entry_id: str | None = None) -> None:
        running = await self.ledger.get_action(action.id) or action
        record = record_for(
            running, result, executed_at=self.clock(), implementer=self.policy.implementer,
            implementer_name=self.policy.implementer_name, detail=detail, audit_entry_id=audit_entry_id,
        )
        final = ActionState.DONE if result.outcome == "done" else ActionState.FAILED
        tool_turn = result_shape(action.tool, action.arguments, final)
        stored = await self.ledger.finish_action(action.id, final, record.fields(), tool_turn)
        if stored is None:
            return  # finished elsewhere (recovery raced a late reply): its record already exists
        ops_log.event("action.finished", tool=action.tool, action=action.id, outcome=record.Outcome,
                      status=result.status)
        if outbox is not None:
            status: DecidedStatus = "done" if final == ActionState.DONE else "failed"
            await self.cards.show(running, outbox, status, f"{record.Outcome} at {record.ExecutedAt}.")
            await outbox.say(f"{detail or result.message} (audit record {str(stored['Hash'])[:12]})")
        if audit_entry_id is None and final == ActionState.DONE:
            await join_audit_entries(self.ledger, self.directory, limit=5)

    # -- upkeep ------------------------------------------------------------------------------------
    async def expire_due(self, outbox_for: OutboxFor) -> int:
        """Expire overdue waiting actions and update their cards in place."""
        expired = await self.ledger.expire_due(self.clock(), self.closing.of("Expired", EXPIRED_LINE))
        for action in expired:
            ops_log.event("action.expired", tool=action.tool, action=action.id)
            outbox = await outbox_for(action.conversation_ref)
            if outbox is not None:
                await self.cards.show(action, outbox, "expired", EXPIRED_LINE)
        return len(expired)

    async def recover(self, outbox_for: OutboxFor) -> RecoveryReport:
        """At start-up: finish what was confirmed but not started; settle what was running."""
        report = RecoveryReport()
        for action in await self.ledger.actions_in_state(ActionState.CONFIRMED):
            outbox = await outbox_for(action.conversation_ref)
            if gate.is_expired(action, self.clock()):
                detail = "Not carried out: the Aid restarted before it ran and the confirmation expired."
                await self.ledger.close_action(action.id, ActionState.CONFIRMED, ActionState.FAILED,
                                               self.closing.of("Failure", detail))
                report.failed.append(action.id)
                if outbox is not None:
                    await outbox.say(f"Not carried out: {action.summary}. The Aid restarted before it ran and the "
                                     "confirmation has expired; nothing was changed. Ask again if needed.")
            else:
                report.resumed.append(action.id)
                await self.execute(action, outbox)
        await self.settle_interrupted(outbox_for, report)
        ops_log.event("recovery.done", count=len(report.done) + len(report.failed) + len(report.resumed),
                      pending=len(report.waiting))
        return report

    async def settle_interrupted(self, outbox_for: OutboxFor, report: RecoveryReport | None = None) -> RecoveryReport:
        """EXECUTING actions this process is not running (a crash, a lost outcome): DONE if Graph's directory
        audit has the write, FAILED once it has had `reconcile_after_seconds` to appear. The upkeep loop
        calls this every few seconds; an action whose Graph call is still in flight here is left alone."""
        report = report or RecoveryReport()
        for action in await self.ledger.actions_in_state(ActionState.EXECUTING):
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
                      "and it was not run again. Ask again if you still need it.")
            report.failed.append(action.id)
        await self._finish(action, result, outbox, detail=detail, audit_entry_id=entry)
