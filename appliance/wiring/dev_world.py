"""The one door from the appliance to its dev world (the `appliance_dev` distribution under dev/: the
embedded dev tenant, the fakes, the benchmark harnesses).

Only dev entry points import this module, and only when they run: `appliance devtenant`, `demo`,
`chat`, `bench`, `init --dev`, and `offboard` of a dev appliance whose dev tenant is not running.
A production install has no `appliance_dev`; importing this module there raises `DevWorldMissing`,
which says what to install. An import-linter contract keeps every other module of `appliance` from
importing `appliance_dev`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from appliance.wiring.dev import DevWorldMissing

try:
    from appliance_dev.dev_stack import DevStack
    from appliance_dev.devtenant import DevTenant
    from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_of, card_text
except ModuleNotFoundError as missing:  # a production install: say what to install, not a traceback
    if missing.name != "appliance_dev":
        raise
    raise DevWorldMissing("the dev world (package appliance_dev) is not installed here") from None

__all__ = [
    "DevStack",
    "DevTeamsClient",
    "DevTenant",
    "DevWorldMissing",
    "bench_section",
    "button_data",
    "card_of",
    "card_text",
]

BENCH_SECTIONS = ("engine", "concurrency", "store", "graph", "writes", "e2e")


def bench_section(name: str) -> ModuleType:
    """The harness of one `appliance bench` section (imported on demand: each pulls in its own stack)."""
    if name not in BENCH_SECTIONS:
        raise ValueError(f"unknown bench section {name!r}")
    return importlib.import_module(f"appliance_dev.bench.{name}")
