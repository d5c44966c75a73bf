"""`AidPolicy`: the few settings the use case needs, as plain values (wiring builds it from Settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AidPolicy:
    """Who may use the Aid, how long confirmations wait, and how audit records are labelled."""

    aid_upn: str
    confirmation_minutes: int = 10
    requesters: tuple[str, ...] = ()
    requester_groups: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    implementer: str = "Direct"
    implementer_name: str = "aidizen"
    context_turns: int = 20
    max_message_chars: int = 4000
    reconcile_after_seconds: int = 300
    settle_inline_seconds: float = 10.0
    two_person_tools: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
