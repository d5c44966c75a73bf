"""Who a message comes from (sans-I/O): an Entra object id, and exactly the tenant user it names.

A captured channel token lets its holder put anything in `from.aadObjectId`. The edge refuses what is
not a GUID (`judge_object_id`); the directory's answer must then be an enabled user whose object id is
exactly that GUID (`judge_sender`): the directory also resolves UPNs, and a UPN must never stand in
for an id. Each returns a `Verdict`, like the rules of `rules.py`.
"""

from __future__ import annotations

import re

from appliance.gate.rules import ALLOWED, Verdict
from appliance.types import Person

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NO_ACCOUNT = "I can't find an enabled account for you in this tenant, so I can't help here."


def is_object_id(value: str) -> bool:
    """True for an Entra object id: a GUID in its 8-4-4-4-12 hex form (never a UPN, never free text)."""
    return bool(OBJECT_ID.fullmatch(value))


def judge_object_id(sender_id: str) -> Verdict:
    """The sender's `aadObjectId` must be a GUID (a UPN or any other text is refused before anything else)."""
    if not is_object_id(sender_id):
        return Verdict(False, "not_an_object_id", NO_ACCOUNT)
    return ALLOWED


def judge_sender(sender_id: str, person: Person | None) -> Verdict:
    """The directory's answer for the sender must be an enabled user whose object id is exactly the one
    the activity carried (compared case-insensitively, as GUIDs are)."""
    if person is None or person.object_id.casefold() != sender_id.casefold():
        return Verdict(False, "not_a_tenant_user", NO_ACCOUNT)
    if not person.enabled:
        return Verdict(False, "disabled", NO_ACCOUNT)
    return ALLOWED
