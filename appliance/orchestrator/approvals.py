"""The two-person rule (`[gate] two_person_tools`): the requester confirms, then a second approver from
`[gate] approvers` approves, before the action runs.

The requester's confirmation is recorded (`confirm_first`) and every approver who has a 1:1 chat with
the Aid gets an approval card (Approve / Decline). The first valid approval moves the action to
CONFIRMED (`confirm_second`: one conditional UPDATE: after the requester, not the requester, same hash,
before expiry, once) and it runs exactly like any other confirmed action; the outcome goes to the
requester's chat. A decline cancels it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from appliance import gate, ops_log
from appliance.audit import utc_stamp
from appliance.catalog import Catalog
from appliance.orchestrator.cancellation import cancel_waiting
from appliance.orchestrator.closing_records import ClosingRecords
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import CardUpdates, Outboxes, RunConfirmed
from appliance.ports import Directory, Ledger, Outbox
from appliance.types import PendingAction, Person


class Approvals:
    """Second approvals: asking the approvers, their Approve and Decline."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        ledger: Ledger,
        directory: Directory,
        policy: AidPolicy,
        clock: Callable[[], datetime],
        cards: CardUpdates,
        outboxes: Outboxes,
        run: RunConfirmed,
    ) -> None:
        self.catalog, self.ledger, self.directory, self.policy, self.clock = catalog, ledger, directory, policy, clock
        self.cards, self.outboxes, self.run = cards, outboxes, run

    async def requester_confirmed(self, action: PendingAction, presented_hash: str, outbox: Outbox) -> None:
        """Record the requester's confirmation and ask the approvers."""
        if not await self.ledger.confirm_first(action.id, requester_id=action.requester_id,
                                               action_hash=presented_hash, moment=self.clock()):
            await outbox.say("You already confirmed this; it is waiting for a second approver.")
            return
        waiting = await self.ledger.get_action(action.id) or action
        reached = await self._ask_approvers(waiting)
        ops_log.event("action.awaiting_second", tool=action.tool, action=action.id, count=reached)
        await self.cards.show(waiting, outbox, "waiting", f"Confirmed by you at {utc_stamp(self.clock())}.")
        if reached:
            await outbox.say(f"Confirmed. This change also needs a second approver; I asked {reached} of them. "
                             "I'll tell you here when it has run.")
        else:
            await outbox.say("Confirmed, but no approver can be reached: each approver must have messaged me "
                             "once in Teams. Nothing ran; it expires if nobody approves in time.")

    async def _ask_approvers(self, action: PendingAction) -> int:
        reached = 0
        if not self.outboxes.connected:
            return 0
        card = gate.approval_card(action, self.catalog[action.tool])
        for upn in self.policy.approvers:
            approver = await self.directory.person(upn)
            if approver is None or approver.object_id == action.requester_id or not approver.enabled:
                continue
            conversation = await self.ledger.conversation_of_person(approver.object_id)
            outbox = await self.outboxes.of(conversation) if conversation else None
            if outbox is not None:
                await outbox.show_card(card)
                reached += 1
        return reached

    async def approve(self, action: PendingAction | None, approver: Person, presented_hash: str,
                      outbox: Outbox, conversation_ref: str) -> None:
        """An approver pressed Approve (in `conversation_ref`): check, CONFIRMED, run; the outcome goes to
        the requester."""
        verdict = gate.judge_approval(action, approver=approver, approvers=self.policy.approvers,
                                      presented_hash=presented_hash, moment=self.clock(),
                                      conversation_ref=conversation_ref,
                                      approver_chat=await self.ledger.conversation_of_person(approver.object_id))
        if action is None or not verdict.allowed:
            ops_log.event("action.approval_refused", reason=verdict.reason, action=action.id if action else None)
            await ClosingRecords(self.ledger, self.policy, self.clock).refused_answer(
                action, approver.object_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        if not await self.ledger.confirm_second(action.id, approver_id=approver.object_id, approver_upn=approver.upn,
                                                action_hash=presented_hash, moment=self.clock()):
            await outbox.say("That request was already decided; nothing more was done.")
            return
        confirmed = await self.ledger.get_action(action.id)
        assert confirmed is not None
        ops_log.event("action.approved", tool=confirmed.tool, action=confirmed.id)
        await outbox.say(f"Approved: {confirmed.summary}. Running it now; the requester gets the outcome.")
        requester = await self.outboxes.of(confirmed.conversation_ref)
        if requester is not None:
            await self.cards.show(confirmed, requester, "confirmed", f"Approved by {approver.upn}; running now.")
        await self.run(confirmed, requester)

    async def decline(self, action: PendingAction | None, approver: Person, outbox: Outbox,
                      conversation_ref: str) -> None:
        """An approver pressed Decline (in `conversation_ref`): the action is cancelled and the requester told."""
        verdict = gate.judge_approval(action, approver=approver, approvers=self.policy.approvers,
                                      presented_hash=None, moment=self.clock(), conversation_ref=conversation_ref,
                                      approver_chat=await self.ledger.conversation_of_person(approver.object_id))
        if action is None or not verdict.allowed:
            await outbox.say(verdict.message)
            return
        requester = await self.outboxes.of(action.conversation_ref)
        declined = ClosingRecords(self.ledger, self.policy, self.clock).of(
            "Cancelled", f"Declined by the second approver {approver.upn}; nothing ran.", actor_id=approver.object_id)
        if not await cancel_waiting(self.ledger, self.cards, action, requester, f"Declined by {approver.upn}.",
                                    declined):
            await outbox.say("That request was already decided.")
            return
        await outbox.say(f"Declined: {action.summary}. Nothing was changed.")
        if requester is not None:
            await requester.say(f"{approver.upn} declined: {action.summary}. Nothing was changed.")
