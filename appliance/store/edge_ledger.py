"""`EdgeStoreLedger`: what the Teams edge reads and writes before a turn starts (`teams.admission.EdgeLedger`).

Whose conversation it is, how many conversations a person has, and whether an activity was already
handled; each call is one repository function on the store's own thread.
"""

from __future__ import annotations

from appliance.store import conversation_references, handled_activities
from appliance.store.tenant_store import TenantStore


class EdgeStoreLedger:
    """Implements `teams.admission.EdgeLedger` over a `TenantStore`."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    async def owner_of(self, conversation_ref: str) -> str | None:
        """The person a stored conversation belongs to, or None."""
        return await self.store.arun(conversation_references.owner_of, conversation_ref)

    async def conversations_of(self, person_id: str) -> int:
        """How many conversations are stored for this person."""
        return await self.store.arun(conversation_references.conversations_of, person_id)

    async def claim_activity(self, conversation_ref: str, activity_id: str) -> bool:
        """True the first time this activity is seen, across restarts; False for a redelivery."""
        key = handled_activities.activity_key(conversation_ref, activity_id)
        return await self.store.arun(handled_activities.claim, key)
