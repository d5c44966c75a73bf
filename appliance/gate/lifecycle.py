"""The states of a pending action and the moves between them (pure data, the gate's source of truth).

PROPOSED -> AWAITING -> CONFIRMED | CANCELLED | EXPIRED -> EXECUTING -> DONE | FAILED | UNKNOWN.
UNKNOWN (the write may have reached Graph, and its directory audit entry did not appear in time) is not
final: a later entry still settles it DONE or FAILED. DONE, FAILED, CANCELLED and EXPIRED are final.
The store enforces these moves with compare-and-set
updates, so each happens at most once even when two confirmations race.
"""

from __future__ import annotations

from collections.abc import Mapping

from appliance.types import ActionState

S = ActionState
LIFECYCLE: Mapping[ActionState, frozenset[ActionState]] = {
    S.PROPOSED: frozenset({S.AWAITING, S.CANCELLED, S.EXPIRED}),
    S.AWAITING: frozenset({S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.EXECUTING, S.CANCELLED, S.EXPIRED, S.FAILED}),
    S.EXECUTING: frozenset({S.DONE, S.FAILED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.DONE, S.FAILED}),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
FINAL_STATES = frozenset(state for state, following in LIFECYCLE.items() if not following)
OPEN_STATES = (S.PROPOSED, S.AWAITING)
"""The states in which an action still waits for a decision."""


def may_move(current: ActionState | str, new_state: ActionState | str) -> bool:
    """True if the lifecycle allows `current` -> `new_state` (False for text that names no state)."""
    try:
        return ActionState(new_state) in LIFECYCLE[ActionState(current)]
    except ValueError:
        return False
