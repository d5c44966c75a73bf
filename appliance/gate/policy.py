"""Who may ask the Aid for what (pure): the requester list, the audit reviewers, protected targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from appliance.types import Person


def may_use_tools(person: Person, requesters: Iterable[str], groups: Iterable[str]) -> bool:
    """An enabled account named in `requesters` or a member of one of `groups` (default: nobody)."""
    if not person.enabled:
        return False
    allowed_people = {upn.casefold() for upn in requesters}
    allowed_groups = {mail.casefold() for mail in groups}
    member_of = {mail.casefold() for mail in person.group_mails}
    return person.upn.casefold() in allowed_people or bool(member_of & allowed_groups)


def may_review_all(person: Person, reviewers: Iterable[str]) -> bool:
    """Reviewers see every audit record through m365_audit_query; others see only what they asked for."""
    return person.upn.casefold() in {upn.casefold() for upn in reviewers}


def protected_target(arguments: Mapping[str, Any], aid_upn: str) -> str | None:
    """A sentence if a state change would touch the Aid's own account (no self-escalation), else None."""
    user = arguments.get("user")
    if isinstance(user, str) and aid_upn and user.casefold() == aid_upn.casefold():
        return "I don't change my own account, licenses or groups; an administrator must do that."
    return None
