"""Audit records of what ends without a Graph call (audit/closures.py): a cancelled or expired action,
a refused answer to a card, a refused request. Each use-case part builds its own from its ledger, policy
and clock, so the parts still never import each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from appliance.audit.closures import ClosedOutcome, closed_action_record, refused_request_record
from appliance.orchestrator.policy import AidPolicy
from appliance.ports import Ledger
from appliance.types import PendingAction

RecordOf = Callable[[PendingAction], dict[str, Any]]


class ClosingRecords:
    """Builds and appends the records; `of(...)` gives the record of an action as the store holds it."""

    def __init__(self, ledger: Ledger, policy: AidPolicy, clock: Callable[[], datetime]) -> None:
        self.ledger, self.policy, self.clock = ledger, policy, clock

    def of(self, outcome: ClosedOutcome, detail: str, actor_id: str | None = None,
           reason: str | None = None) -> RecordOf:
        """The record of an action that ends (or is refused) without a Graph call."""

        def record_of(action: PendingAction) -> dict[str, Any]:
            return closed_action_record(
                action, outcome, moment=self.clock(), implementer=self.policy.implementer,
                implementer_name=self.policy.implementer_name, detail=detail, actor_id=actor_id, reason=reason,
            )

        return record_of

    async def refused_answer(self, action: PendingAction | None, actor_id: str, reason: str, message: str) -> None:
        """A refused confirmation, cancellation or approval: who pressed, which action, the gate's reason."""
        if action is None:
            await self.refused_request(requester_id=actor_id, requester_upn=None, conversation_ref="", reason=reason,
                                       message=message)
            return
        await self.ledger.append_record(self.of("Refused", message, actor_id=actor_id, reason=reason)(action))

    async def refused_request(
        self, *, requester_id: str, requester_upn: str | None, conversation_ref: str, reason: str, message: str,
        tool: str | None = None, arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """A request refused before any action existed (not a requester, a protected target, ...)."""
        await self.ledger.append_record(refused_request_record(
            requester_id=requester_id, requester_upn=requester_upn, conversation_ref=conversation_ref, reason=reason,
            moment=self.clock(), implementer=self.policy.implementer, implementer_name=self.policy.implementer_name,
            tool=tool, arguments=arguments, detail=message,
        ))
