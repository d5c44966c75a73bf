"""Proving that no turn ran, without sleeping: a probe whose answer ends the proof.

Turns of one chat run one at a time, in the order they arrived (the handler's per-conversation lock), so
once the answer to a probe sent later in the same chat has arrived, any turn a refused request might have
started has already sent everything it would ever send. The probe is a button press for an action that
does not exist: the gate answers it without the model, in one known sentence.
"""

from __future__ import annotations

from typing import Any

from appliance.gate.decisions import card_payload
from appliance_dev.devtenant.teams_client import DevTeamsClient
from tests.integration.teams.conftest import texts

PROBE_ANSWER = "I can't find that request."


def assert_no_turn_ran(teams: DevTeamsClient, upn: str, conversation: str, before: int) -> None:
    """Nothing but the probe's own answer reached `conversation` after sequence number `before`."""
    teams.send(upn, value=card_payload("confirm", "no-such-action", "0" * 64))
    events: list[dict[str, Any]] = teams.wait_for(
        conversation, before, lambda found: any(PROBE_ANSWER in text for text in texts(found)), timeout=60
    )
    messages = [e for e in events if e["event"] != "typing"]
    assert len(messages) == 1 and texts(messages) == texts(events), f"a refused request ran a turn: {events}"
    assert len(events) - len(messages) <= 1, f"more than the probe's typing indicator: {events}"
