"""The states of a pending action and the moves between them (pure data, the gate's source of truth).

PROPOSED -> AWAITING -> CONFIRMED | CANCELLED | EXPIRED -> EXECUTING -> DONE | FAILED | UNKNOWN.
UNKNOWN (the write may have reached Graph, and its directory audit entry did not appear in time) is not
final: a later entry still settles it DONE or FAILED. DONE, FAILED, CANCELLED and EXPIRED are final.
The store enforces these moves with compare-and-set
updates, so each happens at most once even when two confirmations race.
"""

from __future__ import annotations

from collections.abc import Mapping

LIFECYCLE: Mapping[str, frozenset[str]] = {
    "PROPOSED": frozenset({"AWAITING", "CANCELLED", "EXPIRED"}),
    "AWAITING": frozenset({"CONFIRMED", "CANCELLED", "EXPIRED"}),
    "CONFIRMED": frozenset({"EXECUTING", "CANCELLED", "EXPIRED", "FAILED"}),
    "EXECUTING": frozenset({"DONE", "FAILED", "UNKNOWN"}),
    "UNKNOWN": frozenset({"DONE", "FAILED"}),
    "DONE": frozenset(),
    "FAILED": frozenset(),
    "CANCELLED": frozenset(),
    "EXPIRED": frozenset(),
}
FINAL_STATES = frozenset(state for state, following in LIFECYCLE.items() if not following)
OPEN_STATES = ("PROPOSED", "AWAITING")


def may_move(current: str, new_state: str) -> bool:
    """True if the lifecycle allows `current` -> `new_state`."""
    return new_state in LIFECYCLE.get(current, frozenset())
