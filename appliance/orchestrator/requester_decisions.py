"""The requester's decisions on their own action: Confirm (card or typed "yes") and Cancel (card or "no").

The gate's rules decide whether the decision stands; the ledger applies it with one compare-and-set
update. A confirmed action runs at once (`run`), unless the two-person rule sends it to a second
approver first (`second_approval`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from appliance import gate, ops_log
from appliance.audit import utc_stamp
from appliance.orchestrator.cancellation import cancel_waiting
from appliance.orchestrator.closing_records import ClosingRecords
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import EXPIRED_LINE, CardUpdates, RunConfirmed
from appliance.ports import Ledger, Outbox
from appliance.types import ActionState, PendingAction

SecondApproval = Callable[[PendingAction, str, Outbox], Awaitable[None]]
"""Records the requester's confirmation of a two-person action and asks the approvers."""


class RequesterDecisions:
    """Confirm and cancel, for the person who asked."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        policy: AidPolicy,
        clock: Callable[[], datetime],
        cards: CardUpdates,
        run: RunConfirmed,
        second_approval: SecondApproval,
    ) -> None:
        self.ledger, self.policy, self.clock, self.cards = ledger, policy, clock, cards
        self.run, self.second_approval = run, second_approval
        self.closing = ClosingRecords(ledger, policy, clock)

    async def confirm(self, action: PendingAction | None, actor_id: str, presented_hash: str, outbox: Outbox, *,
                      conversation_ref: str, typed: bool = False, code: str | None = None) -> None:
        """Confirm `action` for `actor_id` (pressed or typed in `conversation_ref`) if the gate allows it,
        then run it."""
        verdict = gate.judge_confirmation(action, actor_id=actor_id, presented_hash=presented_hash, moment=self.clock(),
                                          conversation_ref=conversation_ref, typed=typed, code=code)
        if action is None or not verdict.allowed:
            ops_log.event("action.confirm_refused", reason=verdict.reason, action=action.id if action else None)
            if action is not None and verdict.reason == "expired":
                await self._expire(action, outbox)
            else:
                await self.closing.refused_answer(action, actor_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        if action.tool in self.policy.two_person_tools:
            await self.second_approval(action, presented_hash, outbox)
            return
        moment = self.clock()
        if not await self.ledger.confirm(action.id, requester_id=actor_id, action_hash=presented_hash, moment=moment):
            now_state = await self.ledger.get_action(action.id)
            again = gate.judge_confirmation(now_state, actor_id=actor_id, presented_hash=presented_hash,
                                            moment=self.clock(), conversation_ref=conversation_ref, typed=typed,
                                            code=code)
            await outbox.say(again.message or "That confirmation could not be applied; nothing ran.")
            return
        confirmed = await self.ledger.get_action(action.id)
        assert confirmed is not None
        ops_log.event("action.confirmed", tool=confirmed.tool, action=confirmed.id)
        await self.cards.show(confirmed, outbox, "confirmed", f"Confirmed at {utc_stamp(moment)}; running now.")
        await self.run(confirmed, outbox)

    async def cancel(self, action: PendingAction | None, actor_id: str, outbox: Outbox, *,
                     conversation_ref: str) -> None:
        """Cancel `action` for `actor_id` (in `conversation_ref`) if the gate allows it."""
        verdict = gate.judge_cancellation(action, actor_id=actor_id, moment=self.clock(),
                                          conversation_ref=conversation_ref)
        if action is None or not verdict.allowed:
            await self.closing.refused_answer(action, actor_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        line = f"Cancelled at {utc_stamp(self.clock())}."
        cancelled = self.closing.of("Cancelled", f"Cancelled by the requester: {action.summary}. Nothing ran.")
        if not await cancel_waiting(self.ledger, self.cards, action, outbox, line, cancelled):
            await outbox.say("That request changed while you answered; nothing was cancelled. Check its card.")
            return
        await outbox.say(f"Cancelled: {action.summary}. Nothing was changed.")

    async def _expire(self, action: PendingAction, outbox: Outbox) -> None:
        if await self.ledger.close_action(action.id, action.state, ActionState.EXPIRED,
                                          self.closing.of("Expired", EXPIRED_LINE)) is not None:
            ops_log.event("action.expired", tool=action.tool, action=action.id)
            await self.cards.show(action, outbox, "expired", EXPIRED_LINE)
