"""The two-person rule (`[gate] two_person_tools`): the requester confirms, then a second approver from
`[gate] approvers` approves, before the action runs.

The requester's confirmation is recorded (`confirm_first`) and every approver who has a 1:1 chat with
the Aid gets an approval card (Approve / Decline). The first valid approval moves the action to
CONFIRMED (`confirm_second`: one conditional UPDATE: after the requester, not the requester, same hash,
before expiry, once) and it runs exactly like any other confirmed action; the outcome goes to the
requester's chat. A decline cancels it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance import gate, ops_log
from appliance.audit import utc_stamp
from appliance.ports import Directory, Outbox
from appliance.types import PendingAction, Person

if TYPE_CHECKING:
    from appliance.orchestrator.execution import Executor


class Approvals:
    """Second approvals for one executor."""

    def __init__(self, executor: Executor, directory: Directory) -> None:
        self.executor, self.directory = executor, directory

    async def requester_confirmed(self, action: PendingAction, presented_hash: str, outbox: Outbox) -> None:
        """Record the requester's confirmation and ask the approvers."""
        ex = self.executor
        if not await ex.ledger.confirm_first(action.id, requester_id=action.requester_id,
                                             action_hash=presented_hash, moment=ex.clock()):  # fmt: skip
            await outbox.say("You already confirmed this; it is waiting for a second approver.")
            return
        waiting = await ex.ledger.get_action(action.id) or action
        reached = await self._ask_approvers(waiting)
        ops_log.event("action.awaiting_second", tool=action.tool, action=action.id, count=reached)
        await ex.update_card(waiting, outbox, "waiting", f"Confirmed by you at {utc_stamp(ex.clock())}.")
        if reached:
            await outbox.say(f"Confirmed. This change also needs a second approver; I asked {reached} of them. "
                             "I'll tell you here when it has run.")  # fmt: skip
        else:
            await outbox.say("Confirmed, but no approver can be reached: each approver must have messaged me "
                             "once in Teams. Nothing ran; it expires if nobody approves in time.")  # fmt: skip

    async def _ask_approvers(self, action: PendingAction) -> int:
        ex, reached = self.executor, 0
        if ex.outbox_for is None:
            return 0
        card = gate.approval_card(action, ex.catalog[action.tool])
        for upn in ex.policy.approvers:
            approver = await self.directory.person(upn)
            if approver is None or approver.object_id == action.requester_id or not approver.enabled:
                continue
            conversation = await ex.ledger.conversation_of_person(approver.object_id)
            outbox = await ex.outbox_for(conversation) if conversation else None
            if outbox is not None:
                await outbox.show_card(card)
                reached += 1
        return reached

    async def approve(self, action: PendingAction | None, approver: Person, presented_hash: str,
                      outbox: Outbox) -> None:  # fmt: skip
        """An approver pressed Approve: check, CONFIRMED, run; the outcome goes to the requester."""
        ex = self.executor
        verdict = gate.judge_approval(action, approver=approver, approvers=ex.policy.approvers,
                                      presented_hash=presented_hash, moment=ex.clock())  # fmt: skip
        if action is None or not verdict.allowed:
            ops_log.event("action.approval_refused", reason=verdict.reason, action=action.id if action else None)
            await ex.record_refused_answer(action, approver.object_id, verdict.reason, verdict.message)
            await outbox.say(verdict.message)
            return
        if not await ex.ledger.confirm_second(action.id, approver_id=approver.object_id, approver_upn=approver.upn,
                                              action_hash=presented_hash, moment=ex.clock()):  # fmt: skip
            await outbox.say("That request was already decided; nothing more was done.")
            return
        confirmed = await ex.ledger.get_action(action.id)
        assert confirmed is not None
        ops_log.event("action.approved", tool=confirmed.tool, action=confirmed.id)
        await outbox.say(f"Approved: {confirmed.summary}. Running it now; the requester gets the outcome.")
        requester = await ex.outbox_for(confirmed.conversation_ref) if ex.outbox_for else None
        if requester is not None:
            await ex.update_card(confirmed, requester, "confirmed", f"Approved by {approver.upn}; running now.")
        await ex.execute(confirmed, requester)

    async def decline(self, action: PendingAction | None, approver: Person, outbox: Outbox) -> None:
        """An approver pressed Decline: the action is cancelled and the requester told."""
        ex = self.executor
        verdict = gate.judge_approval(action, approver=approver, approvers=ex.policy.approvers,
                                      presented_hash=None, moment=ex.clock())  # fmt: skip
        if action is None or not verdict.allowed:
            await outbox.say(verdict.message)
            return
        if not await ex.ledger.transition(action.id, action.state, "CANCELLED"):
            await outbox.say("That request was already decided.")
            return
        await outbox.say(f"Declined: {action.summary}. Nothing was changed.")
        requester = await ex.outbox_for(action.conversation_ref) if ex.outbox_for else None
        if requester is not None:
            await ex.update_card(action, requester, "cancelled", f"Declined by {approver.upn}.")
            await requester.say(f"{approver.upn} declined: {action.summary}. Nothing was changed.")
