"""The router alone over the held-out emergency set (tests/evaluation/emergency_holdout.json): 60 phrasings
written before the cue layer was tuned, never used to tune it (docs/BENCHMARKS.md, issue 12). A floor,
not a target: it fails if a change to the bank, the router or the cues loses what was measured."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.examples import EXAMPLES
from appliance.engine.router import IntentRouter

HOLDOUT = json.loads((Path(__file__).parents[2] / "evaluation" / "emergency_holdout.json").read_text("utf-8"))
PROBE = json.loads((Path(__file__).parents[2] / "evaluation" / "phrasing_probe.json").read_text("utf-8"))
MEASURED = {"right_tool": 54 / 60, "emergencies": 31 / 32}  # docs/BENCHMARKS.md, router only
PROBE_MEASURED = 92 / 96  # docs/BENCHMARKS.md, router only, with the direction and look-up cues


def test_the_router_keeps_its_measured_rates_on_the_held_out_emergencies() -> None:
    router = IntentRouter(EXAMPLES)
    first = {case["text"]: router.rank(case["text"])[0][0] for case in HOLDOUT}
    right = [case for case in HOLDOUT if first[case["text"]] == case["tool"]]
    emergencies = [case for case in HOLDOUT if case["emergency"]]
    assert len(right) / len(HOLDOUT) >= MEASURED["right_tool"] - 1e-9
    assert sum(case["emergency"] for case in right) / len(emergencies) >= MEASURED["emergencies"] - 1e-9
    writes = {name for name, spec in DEFAULT_CATALOG.items() if spec.changes_state}
    pulled = [c["text"] for c in HOLDOUT if c["tool"] not in writes and first[c["text"]] in writes]
    assert not pulled, f"look-ups routed to a state change: {pulled}"


def test_the_router_keeps_its_measured_rate_on_the_phrasing_probe_and_never_pulls_a_look_up() -> None:
    """tests/evaluation/phrasing_probe.json (requests as typed: lower case, typos, indirect orders)."""
    router = IntentRouter(EXAMPLES)
    first = {case["text"]: router.rank(case["text"])[0][0] for case in PROBE}
    right = sum(first[case["text"]] == case["tool"] for case in PROBE)
    assert right / len(PROBE) >= PROBE_MEASURED - 1e-9, f"{right}/{len(PROBE)}"
    writes = {name for name, spec in DEFAULT_CATALOG.items() if spec.changes_state}
    pulled = [c["text"] for c in PROBE if c["tool"] not in writes and first[c["text"]] in writes]
    assert not pulled, f"look-ups routed to a state change: {pulled}"
