"""Graph writes per confirmed action, for every write tool under every write fault profile of the dev tenant
(issue 15 item 1; the table in docs/BENCHMARKS.md is the same matrix, from `appliance bench --section writes`).

Each cell: one action proposed, confirmed and executed through the real path (SQLCipher ledger, Executor,
msgraph-sdk, msal), then settled from the directory audit log, whose entries are minutes late."""

from __future__ import annotations

from pathlib import Path

from appliance_dev.bench.writes import WRITE_TOOLS, markdown, matrix
from appliance_dev.devtenant.faults import WRITE_FAULT_PROFILES, WRITES_GRAPH_DID


def test_every_write_tool_under_every_fault_profile_writes_at_most_once_and_is_settled_truthfully(
    tmp_path: Path,
) -> None:
    cells = matrix(tmp_path)
    assert {(c.tool, c.profile) for c in cells} == {(t, p) for t in WRITE_TOOLS for p in WRITE_FAULT_PROFILES}
    wrong = [c for c in cells if c.writes != WRITES_GRAPH_DID[c.profile] or c.entries != c.writes]
    assert wrong == [], markdown(cells)
    # what Graph did decides the outcome: a write that landed is DONE, one that never did stays Unknown (never
    # "failed, nothing was changed", since the appliance cannot know that it did not land)
    assert all(c.state == ("DONE" if c.writes else "UNKNOWN") for c in cells), markdown(cells)
    assert max(c.writes for c in cells) == 1
