"""`Executor`: confirmed actions run once, as the Aid, and leave an audit record.

EXECUTING (with the client-request-id) is committed before the Graph call; DONE/FAILED and the audit
record are committed together after it. A write that may have reached Graph and whose answer was lost
(a timeout, a dropped connection, a 5xx; or a crash) is never sent again: its outcome is settled from
the M365 directory audit log (`ports.Directory.audit_match`): a `success` entry settles DONE, a `failure`
entry FAILED with Graph's reason; with no entry after `reconcile_after_seconds` the action is UNKNOWN
(its record says Unknown, the person is told), and a later entry still settles it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance import gate, ops_log
from appliance.audit import join_audit_entries, record_for
from appliance.audit.reconcile import AUDIT_CLOCK_SKEW
from appliance.orchestrator import outcomes
from appliance.orchestrator.closing_records import ClosingRecords
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import EXPIRED_LINE, CardUpdates, OutboxFor
from appliance.ports import Directory, Ledger, Outbox, ToolRunner
from appliance.types import ActionState, AuditMatch, DecidedStatus, ExecutionResult, PendingAction

CLOCK_SKEW = AUDIT_CLOCK_SKEW
WRITE_WINDOW = timedelta(minutes=10)
"""A write's directory audit entry is dated between EXECUTING - CLOCK_SKEW and EXECUTING + WRITE_WINDOW: EXECUTING
is committed before the request is sent, so an entry dated earlier (beyond the clocks' skew) is not this write's."""
UNKNOWN_RECHECK = timedelta(days=7)
"""How long an UNKNOWN action is checked again (the shortest directory audit retention, free tenants)."""


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
    unknown: list[str] = field(default_factory=list)


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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ledger, self.tools, self.directory = ledger, tools, directory
        self.policy, self.clock, self.cards, self.sleep = policy, clock, cards, sleep
        self._running: set[str] = set()  # EXECUTING here and now: never settled as "interrupted"
        self.closing = ClosingRecords(ledger, policy, clock)

    @property
    def in_flight(self) -> set[str]:
        """Ids of the actions whose Graph call this process is making right now."""
        return set(self._running)

    # -- running -----------------------------------------------------------------------------------
    async def execute(self, action: PendingAction, outbox: Outbox | None) -> None:
        """CONFIRMED -> EXECUTING (committed, with a fresh client-request-id) -> Graph -> DONE/FAILED + record.

        A write whose answer was lost is never sent again: the person is told it is being checked, and the
        directory audit log settles it (here for a few seconds, then in the upkeep loop)."""
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
            except Exception as exc:  # the outcome is unknown: leave EXECUTING for settling, never guess
                ops_log.event("action.outcome_unknown", tool=action.tool, action=action.id, error=type(exc).__name__)
                await self.tell(action.conversation_ref, outbox, outcomes.CHECKING)
                return
            if result.outcome == "unknown":
                ops_log.event("action.outcome_unknown", tool=action.tool, action=action.id, status=result.status)
                await self.tell(action.conversation_ref, outbox, outcomes.checking(action))
                await self._settle_soon(action, outbox, result)
                return
            await self._finish(action, result, outbox)
        finally:
            self._running.discard(action.id)

    async def _settle_soon(self, action: PendingAction, outbox: Outbox | None, sent: ExecutionResult) -> None:
        """Look for the write's audit entry for up to `settle_inline_seconds`; the upkeep loop does the rest."""
        waited, delay = 0.0, 1.0
        while waited < self.policy.settle_inline_seconds:
            await self.sleep(delay)
            waited, delay = waited + delay, min(delay * 2, 4.0)
            running = await self.ledger.get_action(action.id)
            if running is None or running.state != ActionState.EXECUTING:
                return
            match = await self._match(running)
            if match is not None:
                await self._settle(running, match, outbox, late=False, sent=sent)
                return

    async def _match(self, action: PendingAction) -> AuditMatch | None:
        crid = action.client_request_id
        if not crid:
            return None
        started = datetime.fromisoformat(action.executing_at or action.updated_at)
        since, until = started - CLOCK_SKEW, started + WRITE_WINDOW
        claimed = await self.ledger.claimed_entries(crid, since, until)  # other writes' entries never settle this
        return await self.directory.audit_match(action.tool, action.arguments, crid, since, until, claimed)

    async def _settle(self, action: PendingAction, match: AuditMatch, outbox: Outbox | None, *, late: bool,
                      sent: ExecutionResult | None = None) -> None:
        """Finish `action` as its audit entry says; `sent` (the lost answer, if this process saw it) keeps Graph's
        status and request-id on the record."""
        result = ExecutionResult(action.tool, "done" if match.succeeded else "failed", action.client_request_id or "",
                                 sent.status if sent else None, sent.request_id if sent else None)
        await self._finish(action, result, outbox, detail=outcomes.settled(action, match, late=late), match=match)

    async def tell(self, conversation_ref: str, outbox: Outbox | None, text: str) -> None:
        """Say `text`; if Teams will not take it (after the retries it documents), keep it to send again
        later (the upkeep loop) and for `appliance audit verify`. Never raises."""
        reason = "the conversation cannot be reached (no stored reference)"
        if outbox is not None:
            try:
                await outbox.say(text)
                return
            except Exception as exc:
                reason = str(exc)[:200] or type(exc).__name__
        ops_log.event("message.undelivered", conversation=conversation_ref)
        await self.ledger.keep_undelivered(conversation_ref, text, reason)

    async def redeliver(self, outbox_for: OutboxFor) -> int:
        """Try once more to send the kept messages that are due; returns how many went out."""
        sent = 0
        for message in await self.ledger.undelivered_due(20):
            outbox = await outbox_for(str(message["conversation_ref"]))
            try:
                if outbox is None:
                    raise LookupError("the conversation cannot be reached (no stored reference)")
                await outbox.say(str(message["text"]))
            except Exception as exc:
                await self.ledger.mark_delivered(int(message["id"]), False, str(exc)[:200] or type(exc).__name__)
                continue
            await self.ledger.mark_delivered(int(message["id"]), True)
            sent += 1
        return sent

    async def _finish(self, action: PendingAction, result: ExecutionResult, outbox: Outbox | None,
                      detail: str | None = None, match: AuditMatch | None = None) -> None:
        running = await self.ledger.get_action(action.id) or action
        entry_id, matched_by = (match.entry_id, match.matched_by) if match else (None, None)
        record = record_for(
            running, result, executed_at=self.clock(), implementer=self.policy.implementer,
            implementer_name=self.policy.implementer_name, detail=detail, audit_entry_id=entry_id,
            audit_entry_matched_by=matched_by,
        )
        final = {"done": ActionState.DONE, "unknown": ActionState.UNKNOWN}.get(result.outcome, ActionState.FAILED)
        tool_turn = result_shape(action.tool, action.arguments, final)
        stored = await self.ledger.finish_action(action.id, final, record.fields(), tool_turn)
        if stored is None:
            return  # finished elsewhere (recovery raced a late reply): its record already exists
        ops_log.event("action.finished", tool=action.tool, action=action.id, outcome=record.Outcome,
                      status=result.status)
        if outbox is not None:
            statuses: dict[ActionState, DecidedStatus] = {ActionState.DONE: "done", ActionState.UNKNOWN: "unknown"}
            status: DecidedStatus = statuses.get(final, "failed")
            await self.cards.show(running, outbox, status, f"{record.Outcome} at {record.ExecutedAt}.")
        await self.tell(action.conversation_ref, outbox,
                        f"{detail or result.message} (audit record {str(stored['Hash'])[:12]})")
        if match is None and final == ActionState.DONE:
            try:
                await join_audit_entries(self.ledger, self.directory, limit=5)
            except Exception as exc:  # the upkeep loop joins it later; the action itself is finished
                ops_log.event("audit.join_failed", error=type(exc).__name__, action=action.id)

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
        """EXECUTING actions this process is not running (a crash, a lost answer), then UNKNOWN ones: each is
        settled by its directory audit entry; an EXECUTING one with none after `reconcile_after_seconds`
        becomes UNKNOWN. The upkeep loop calls this every few seconds; an action whose Graph call is still in
        flight here is left alone."""
        report = report or RecoveryReport()
        for action in await self.ledger.actions_in_state(ActionState.EXECUTING):
            if action.id not in self._running:
                await self._settle_executing(action, report, outbox_for)
        for action in await self.ledger.actions_in_state(ActionState.UNKNOWN):
            started = datetime.fromisoformat(action.executing_at or action.updated_at)
            if self.clock() - started < UNKNOWN_RECHECK:
                match = await self._match(action)
                if match is not None:
                    await self._settle(action, match, await outbox_for(action.conversation_ref), late=True)
                    (report.done if match.succeeded else report.failed).append(action.id)
        return report

    async def _settle_executing(self, action: PendingAction, report: RecoveryReport, outbox_for: OutboxFor) -> None:
        match = await self._match(action)
        started = datetime.fromisoformat(action.executing_at or action.updated_at)
        waited = self.clock() - started
        if match is None and waited < timedelta(seconds=self.policy.reconcile_after_seconds):
            report.waiting.append(action.id)
            return
        outbox = await outbox_for(action.conversation_ref)
        if match is not None:
            (report.done if match.succeeded else report.failed).append(action.id)
            await self._settle(action, match, outbox, late=False)
            return
        report.unknown.append(action.id)
        result = ExecutionResult(action.tool, "unknown", action.client_request_id or "")
        await self._finish(action, result, outbox, detail=outcomes.unknown(action, int(waited.total_seconds())))
