"""The start-up check of the catalog against what serves it: `appliance serve` and `appliance doctor` run it.

The catalog is the one registry of what the Aid may do. An enabled tool is usable only when something
runs it (a Graph executor, or the use case itself for `reply` and the audit query) and the model has a
worked example of it; a tool missing either refuses the start, naming what to add.
"""

from __future__ import annotations

from appliance.catalog import Catalog
from appliance.errors import CatalogError


class CatalogIncomplete(CatalogError):
    """An enabled tool that nothing runs, or that the model was never shown."""

    hint = (
        "Add what is named above: a Graph executor in appliance/graph/executors/ (registered in EXECUTORS) and a "
        "worked example in appliance/engine/examples.py; or disable the tool with [catalog] disabled_tools."
    )


def catalog_problems(catalog: Catalog) -> list[str]:
    """One sentence per enabled tool that cannot serve: no executor, or no worked example (empty: all good)."""
    from appliance.engine.examples import tools_with_examples
    from appliance.graph.executors import EXECUTORS
    from appliance.orchestrator import ANSWERED_IN_THE_APPLIANCE

    problems = []
    examples = tools_with_examples()
    for name, spec in catalog.items():
        if spec.runs_on_graph and name not in EXECUTORS:
            problems.append(f"{name} has no Graph executor")
        if not spec.runs_on_graph and name not in ANSWERED_IN_THE_APPLIANCE:
            problems.append(f"{name} runs on neither Graph nor the appliance")
        if name not in examples:
            problems.append(f"{name} has no worked example")
    return problems


def check_catalog(catalog: Catalog) -> None:
    """Raise CatalogIncomplete naming every enabled tool that could not serve a request."""
    problems = catalog_problems(catalog)
    if problems:
        raise CatalogIncomplete("the catalog cannot start: " + "; ".join(problems))
