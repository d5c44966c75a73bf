"""Counts of open actions by state, for the metrics gauges (no contents, no ids)."""

from __future__ import annotations

from appliance.gate.lifecycle import OPEN_STATES
from appliance.store.connection import Connection


def open_action_counts(db: Connection) -> dict[str, int]:
    """How many actions are in each not-yet-ended state (PROPOSED, AWAITING, CONFIRMED, EXECUTING)."""
    states = (*OPEN_STATES, "CONFIRMED", "EXECUTING")
    marks = ", ".join("?" * len(states))
    rows = db.execute(f"SELECT state, count(*) FROM pending_actions WHERE state IN ({marks}) GROUP BY state", states)
    return {str(state): int(n) for state, n in rows}


def executing_ids(db: Connection) -> list[str]:
    """Ids of the actions in EXECUTING (the Graph call was or may have been sent)."""
    return [str(row[0]) for row in db.execute("SELECT id FROM pending_actions WHERE state = 'EXECUTING'")]
