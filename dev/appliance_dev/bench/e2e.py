"""The end-to-end section of `appliance bench`, on this machine with the default model.

- Latency through everything (dev tenant Teams emulator -> `appliance serve --dev` process -> model ->
  Graph -> store -> Bot Connector back): message in -> confirmation card out, and Confirm pressed ->
  outcome message out; p50/p95 over several rounds. Times are taken from the dev tenant's own clock:
  from just before it signs and POSTs the activity to when the bot's message reaches its connector.
- The non-model path's throughput: confirmations per second with many conversations at once. Each
  action is proposed first (not timed); then every Confirm is pressed at once and the clock runs until
  every outcome has been delivered. Two ways: through the whole appliance process (Teams, botbuilder,
  gate, Graph, SQLCipher), and in-process through the orchestrator, real SQLCipher and real Graph over
  HTTPS with a scripted proposer (no Teams), which isolates what the appliance itself costs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_of

REQUESTERS = ("doug@contoso.com", "hana.berg@contoso.com", "ivo.petrov@contoso.com", "jo.kim@contoso.com")
PROPOSAL = "Assign an E3 license (ENTERPRISEPACK) to sarah.lin@contoso.com"
EVERYONE = '[gate]\nrequester_groups = ["helpdesk@contoso.com"]\nrequesters = [{}]\n'


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _first_message_at(events: list[dict[str, Any]]) -> float:
    return float(next(e["at"] for e in events if e["event"] == "message"))


def _latencies(teams: DevTeamsClient, rounds: int) -> dict[str, Any]:
    to_card, to_outcome, misses = [], [], 0
    for index in range(rounds):
        upn = REQUESTERS[index % len(REQUESTERS)]
        started = time.time()
        _, events = teams.ask(upn, PROPOSAL)
        card = next((c for e in events if (c := card_of(e)) is not None and e["event"] == "message"), None)
        if card is None:
            misses += 1
            continue
        to_card.append(_first_message_at(events) - started)
        started = time.time()
        _, events = teams.ask(upn, value=button_data(card, "Confirm"))
        outcome = [e for e in events if e["event"] == "message" and e["activity"].get("text")]
        to_outcome.append(float(outcome[0]["at"]) - started)
    return {
        "e2e.rounds": rounds,
        "e2e.model_missed_the_tool": misses,
        "e2e.message_to_card_ms.p50": statistics.median(to_card) * 1000,
        "e2e.message_to_card_ms.p95": _percentile(to_card, 0.95) * 1000,
        "e2e.confirm_to_outcome_ms.p50": statistics.median(to_outcome) * 1000,
        "e2e.confirm_to_outcome_ms.p95": _percentile(to_outcome, 0.95) * 1000,
    }


def _confirmations_through_the_process(stack: DevStack, teams: DevTeamsClient, people: list[str]) -> dict[str, Any]:
    """Propose one change per person (untimed), then press every Confirm at once."""
    pressed: list[tuple[str, dict[str, Any]]] = []
    for upn in people:
        _, events = teams.ask(upn, PROPOSAL)
        card = next((c for e in events if (c := card_of(e)) is not None and e["event"] == "message"), None)
        if card is not None:
            pressed.append((upn, button_data(card, "Confirm") or {}))
    positions = {upn: teams.last_seq(teams.conversation_of(upn)) for upn, _ in pressed}

    async def press_all() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(asyncio.to_thread(teams.send, upn, None, value) for upn, value in pressed))
        for upn, _ in pressed:
            conversation = teams.conversation_of(upn)
            await asyncio.to_thread(teams.wait_for, conversation, positions[upn],
                                    lambda ev: any(e["event"] == "message" and e["activity"].get("text")
                                                   for e in ev), 300)
        return time.perf_counter() - started

    seconds = asyncio.run(press_all())
    return {"e2e.process_concurrent_confirmations": len(pressed),
            "e2e.process_confirmations_per_s": len(pressed) / seconds}


def run(workdir: Path, rounds: int = 8) -> dict[str, Any]:
    """Latency percentiles and confirmation throughput; see the module docstring."""
    from appliance.config import load_settings

    settings = load_settings()
    others = ["sarah.lin@contoso.com", "mike.chan@contoso.com", "priya.n@contoso.com", "leaver@contoso.com",
              "admin@contoso.com", "ignore.rules@contoso.com"]
    config = EVERYONE.format(", ".join(f'"{upn}"' for upn in others))
    with DevStack(workdir / "home", extra_config=config, models_dir=settings.models_dir) as stack:
        stack.start_appliance()
        assert stack.client is not None
        results = _latencies(stack.client, rounds)
        results.update(_confirmations_through_the_process(stack, stack.client, [*others, *REQUESTERS]))
    from appliance_dev.bench.gate import run as in_process

    results.update(in_process(workdir / "inproc"))
    return results
