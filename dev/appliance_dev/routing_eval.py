"""The intent router alone over the labelled set and the held-out emergency set, no model: the router-only
rows of docs/BENCHMARKS.md (issue 12). `python -m appliance_dev.routing_eval [-v]` from the repository root.

For each request: the first choice of the nearest examples alone ("before") and with the cue layer
("with cues"), over all tools and, for the labelled set, within the tools the grounded grammar allows
(the tool a full qualification run proposes with `route_tools = 1`: the model only fills arguments).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.examples import EXAMPLES
from appliance.engine.router import IntentRouter
from appliance.evaluation import load_sets
from appliance.evaluation.directory import mentions_for
from appliance.evaluation.sets import EvaluationTenant
from appliance.grammar import Grounding, tool_call_schema
from appliance.types import ContextMessage

HOLDOUT = Path("tests/evaluation/emergency_holdout.json")
Case = tuple[str, str, bool]  # text, labelled tool, emergency
Choose = Callable[[str], tuple[str, str]]  # text -> (before, with cues)


def _grounded_tools(tenant: EvaluationTenant, text: str) -> list[str]:
    messages = [ContextMessage(role="user", text=text)]
    grounding = Grounding.from_mentions(mentions_for(tenant, messages), [text])
    return [v["properties"]["tool"]["const"] for v in tool_call_schema(DEFAULT_CATALOG, grounding)["anyOf"]]


def score(name: str, cases: list[Case], choose: Choose, verbose: bool) -> None:
    """Print right tool, emergencies and the rest, before and with cues."""
    counts: Counter[str] = Counter()
    for text, tool, emergency in cases:
        before, after = choose(text)
        for label, pick in (("before", before), ("with cues", after)):
            counts[label] += pick == tool
            counts[label + (" em" if emergency else " rest")] += pick == tool
        if verbose and (before != tool or after != tool):
            verdict = "fixed" if after == tool else "BROKE" if before == tool else "miss "
            print(f"  {verdict} {tool} <- {after} | {text}")
    emergencies = sum(case[2] for case in cases)
    for label in ("before", "with cues"):
        print(f"{name}, {label}: right tool {counts[label]}/{len(cases)} = {counts[label] / len(cases):.3f}; "
              f"emergencies {counts[label + ' em']}/{emergencies}; others {counts[label + ' rest']}/"
              f"{len(cases) - emergencies}")


def main(argv: list[str]) -> None:
    """Print the router-only rates on both sets."""
    verbose = "-v" in argv
    router = IntentRouter(EXAMPLES)
    sets = load_sets()
    labelled = [(case.text, case.tool, case.emergency) for case in sets.labelled]
    holdout = [(row["text"], row["tool"], row["emergency"]) for row in json.loads(HOLDOUT.read_text("utf-8"))]

    def everywhere(text: str) -> tuple[str, str]:
        return router.similar(text)[0][0], router.rank(text)[0][0]

    def grounded(text: str) -> tuple[str, str]:
        allowed = _grounded_tools(sets.tenant, text)
        return router.similar(text, allowed)[0][0], router.top(text, 1, allowed)[0]

    score("labelled, all tools", labelled, everywhere, verbose)
    score("labelled, grounded tools", labelled, grounded, verbose)
    score("held-out, all tools", holdout, everywhere, verbose)


if __name__ == "__main__":
    main(sys.argv[1:])
