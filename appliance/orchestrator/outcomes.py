"""What a person is told when an action's outcome is settled from the directory audit log, or cannot be yet.

None of these ever says "nothing was changed" about a write that may have reached Graph.
"""

from __future__ import annotations

from appliance.types import AuditMatch, PendingAction

CHECKING = ("I lost track of that change while it ran. It will not be sent again: I'm checking the Microsoft 365 "
            "audit log for what happened and will tell you.")


def checking(action: PendingAction) -> str:
    """The write was sent once and no clear answer came back (a timeout, a lost connection, a 5xx)."""
    return (f"I sent this change to Microsoft 365 but got no clear answer: {action.summary}. It will not be sent "
            "again: I'm checking the Microsoft 365 audit log for what happened and will tell you.")


def settled(action: PendingAction, match: AuditMatch, *, late: bool) -> str:
    """The action settled by its audit entry (`late`: it was Unknown until now)."""
    prefix = "Update: the Microsoft 365 audit log now shows it. " if late else ""
    if match.succeeded:
        return f"{prefix}Done: {action.summary}. (Confirmed from the Microsoft 365 audit log.)"
    reason = f": {match.reason}" if match.reason else ""
    return f"{prefix}Not carried out: {action.summary}. Microsoft 365 recorded it as failed{reason}."


def unknown(action: PendingAction, waited_seconds: int) -> str:
    """No audit entry after the wait: say so, without guessing either way."""
    return (f"I can't confirm yet whether this happened: {action.summary}. Microsoft 365's audit log has no entry "
            f"for it after {waited_seconds} s (entries can take minutes to appear), and it was not sent again. "
            "I'll keep checking and tell you when it shows up; its audit record says Unknown until then.")
