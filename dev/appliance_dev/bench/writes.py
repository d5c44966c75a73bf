"""Graph writes per confirmed action, for every write tool under every write fault profile of the dev tenant.

Each cell is one confirmed action run through the real path (SQLCipher ledger, `Executor`, executors,
msgraph-sdk, msal, the egress transport) against the dev tenant with that fault on the write: the number
of writes that reached Graph's handler (never more than one), the directory audit entries it left, and
the state the action was settled in from the audit log. docs/BENCHMARKS.md shows the table;
tests/integration/graph/test_write_counts.py asserts it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.catalog import DEFAULT_CATALOG
from appliance.gate import action_hash
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.directory import GraphDirectory
from appliance.graph.executors import GraphTools
from appliance.orchestrator import AidPolicy, Executor
from appliance.orchestrator.shared import CardUpdates
from appliance.store import TenantStore
from appliance.store.keys import FileKeyProvider
from appliance.store.ledger import StoreLedger
from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.clock import AuditLatency
from appliance_dev.devtenant.faults import WRITE_FAULT_PROFILES, WRITES_GRAPH_DID, write_fault_profile
from appliance_dev.devtenant.state import SEED_PATH
from appliance_dev.testing.outbox import RecordingOutbox
from appliance_dev.testing.token_cache import MemoryTokenCache

CLIENT_ID = "aidizen-admin"
CLIENT_TIMEOUT_S = 1.0
WRITE_TOOLS: dict[str, tuple[dict[str, Any], str, str]] = {
    "m365_user_disable": ({"user": "leaver@contoso.com"}, r"^/v1\.0/users/{user}$", "PATCH"),
    "m365_user_enable": ({"user": "leaver@contoso.com"}, r"^/v1\.0/users/{user}$", "PATCH"),
    "m365_password_reset": ({"user": "priya.n@contoso.com"}, r"^/v1\.0/users/{user}$", "PATCH"),
    "m365_user_update": ({"user": "sarah.lin@contoso.com", "field": "department", "value": "Controlling"},
                         r"^/v1\.0/users/{user}$", "PATCH"),
    "m365_sessions_revoke": ({"user": "mike.chan@contoso.com"}, r"^/v1\.0/users/{user}/revokeSignInSessions$", "POST"),
    "m365_license_assign": ({"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"},
                            r"^/v1\.0/users/{user}/assignLicense$", "POST"),
    "m365_license_remove": ({"user": "doug@contoso.com", "sku": "ENTERPRISEPACK"},
                            r"^/v1\.0/users/{user}/assignLicense$", "POST"),
    "m365_group_add_member": ({"group": "finance@contoso.com", "user": "mike.chan@contoso.com"},
                              r"^/v1\.0/groups/{group}/members/\$ref$", "POST"),
    "m365_group_remove_member": ({"group": "finance@contoso.com", "user": "sarah.lin@contoso.com"},
                                 r"^/v1\.0/groups/{group}/members/{user}/\$ref$", "DELETE"),
}
"""Every write tool, with a valid non-privileged target, and the Graph route of its write (object ids filled in,
so the tools of one profile run side by side, each with its own fault)."""


@dataclass(frozen=True)
class Cell:
    """One confirmed action under one fault profile."""

    tool: str
    profile: str
    writes: int
    entries: int
    state: str
    expected_writes: int


class WriteMatrix:
    """A dev tenant, the Aid signed in, and a SQLCipher ledger: runs one confirmed action per call."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.tenant = DevTenant(workdir / "devtenant", persist=False).start()
        self.seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))
        endpoints = dev_endpoints("contoso.onmicrosoft.com", CLIENT_ID, (self.tenant.host, self.tenant.port),
                                  str(self.tenant.keys.ca_cert))
        permissions = sorted({*DEFAULT_CATALOG.permissions(), *self.seed["clients"][CLIENT_ID]["consentedScopes"]})
        identity, self.gateway = connect(endpoints, permissions, MemoryTokenCache(), graph_timeout=CLIENT_TIMEOUT_S)
        identity.sign_in_with_device_code(lambda message: None)
        self.gateway.max_wait = 0.05  # a 429's Retry-After is honoured, but kept short here
        key = workdir / "store.key"
        FileKeyProvider(key, workdir / "home").create()
        self.store = TenantStore(workdir / "home" / "appliance.db", FileKeyProvider(key, workdir / "home"), create=True)
        aid = self.tenant.context.state.user("aid@contoso.com")
        assert aid is not None
        self.directory = GraphDirectory(self.gateway, aid_object_id=str(aid["id"]))

    def close(self) -> None:
        """Stop the tenant and close the store."""
        self.store.close()
        self.tenant.stop()

    def _reset(self) -> None:
        ctx = self.tenant.context
        bots, tokens = ctx.state.data.get("bots", {}), ctx.state.data.get("refreshTokens", {})
        ctx.state.data.clear()
        ctx.state.data.update(copy.deepcopy(self.seed), directoryAudits=[], refreshTokens=tokens, bots=bots)
        ctx.audit_latency = AuditLatency.fixed(120)  # entries are minutes late (played on the tenant's clock)
        ctx.faults.set([])

    def _route(self, tool: str) -> str:
        arguments, path, _ = WRITE_TOOLS[tool]
        state = self.tenant.context.state
        user = state.user(str(arguments["user"]))
        group = next((g for g in state.data["groups"] if g.get("mail") == arguments.get("group")), None)
        return path.format(user=user["id"] if user else "", group=group["id"] if group else "")

    async def run(self, tools: tuple[str, ...], profile: str) -> list[Cell]:
        """For each tool at once: propose, confirm and execute one action with `profile` on its write; then
        let the audit log catch up and settle every action from it."""
        self._reset()
        ctx = self.tenant.context
        ledger = StoreLedger(self.store)
        clock = _Clock()
        executor = Executor(ledger=ledger, tools=GraphTools(self.gateway), cards=CardUpdates(DEFAULT_CATALOG),
                            directory=self.directory, clock=clock, sleep=_no_wait,
                            policy=AidPolicy(aid_upn="aid@contoso.com", reconcile_after_seconds=300,
                                             settle_inline_seconds=0))
        rules = [rule for tool in tools for rule in write_fault_profile(
            profile, self._route(tool), WRITE_TOOLS[tool][2], client_timeout_ms=int(CLIENT_TIMEOUT_S * 1000))]
        ctx.faults.set(rules)
        ids = await asyncio.gather(*(self._execute(executor, ledger, clock, tool, profile) for tool in tools))
        counts = await asyncio.gather(*(_writes_after_any_late_commit(ctx, crid, WRITES_GRAPH_DID[profile])
                                        for _, crid in ids))
        ctx.clock.advance(121)  # the audit log catches up
        outbox = RecordingOutbox()

        async def outbox_for(ref: str) -> RecordingOutbox:
            return outbox

        await executor.settle_interrupted(outbox_for)
        clock.advance(301)  # past reconcile_after_seconds: what is still unsettled becomes UNKNOWN
        await executor.settle_interrupted(outbox_for)
        cells = []
        for tool, (action_id, crid), writes in zip(tools, ids, counts, strict=True):
            final = await ledger.get_action(action_id)
            entries = sum(1 for e in ctx.state.data["directoryAudits"] if e["correlationId"] == crid)
            cells.append(Cell(tool, profile, writes, entries, final.state if final else "?", WRITES_GRAPH_DID[profile]))
        return cells

    async def _execute(self, executor: Executor, ledger: StoreLedger, clock: _Clock, tool: str,
                       profile: str) -> tuple[str, str]:
        arguments = WRITE_TOOLS[tool][0]
        summary = DEFAULT_CATALOG[tool].summary(arguments)
        action = await ledger.propose_action(
            user_text="matrix", action_id=str(uuid.uuid4()), conversation_ref=f"matrix/{tool}/{profile}",
            requester_id="doug-oid", tool=tool, arguments=arguments, summary=summary,
            action_hash=action_hash(tool, arguments, summary), expires_at=clock() + timedelta(minutes=10),
        )
        assert await ledger.confirm(action.id, requester_id="doug-oid", action_hash=action.action_hash, moment=clock())
        confirmed = await ledger.get_action(action.id)
        assert confirmed is not None
        await executor.execute(confirmed, RecordingOutbox())
        running = await ledger.get_action(action.id)
        assert running is not None and running.client_request_id
        return action.id, running.client_request_id


class _Clock:
    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


async def _no_wait(seconds: float) -> None:
    return None


async def _writes_after_any_late_commit(ctx: Any, crid: str, expected: int) -> int:
    """Writes that reached Graph's handler with this client-request-id; waits (bounded) for a slow commit that
    lands after the client gave up, and a little longer to catch any second write."""
    deadline = time.monotonic() + CLIENT_TIMEOUT_S * 4
    while time.monotonic() < deadline and sum(1 for w in ctx.writes if w["client-request-id"] == crid) < expected:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    return sum(1 for w in ctx.writes if w["client-request-id"] == crid)


def matrix(workdir: Path, tools: tuple[str, ...] = tuple(WRITE_TOOLS),
           profiles: tuple[str, ...] = WRITE_FAULT_PROFILES) -> list[Cell]:
    """Every tool under every profile, one confirmed action each."""
    runner = WriteMatrix(workdir)
    try:

        async def every() -> list[Cell]:
            return [cell for profile in profiles for cell in await runner.run(tools, profile)]

        return asyncio.run(every())
    finally:
        runner.close()


def markdown(cells: list[Cell]) -> str:
    """The table for docs/BENCHMARKS.md: Graph writes per confirmed action (and the settled state)."""
    profiles = list(dict.fromkeys(c.profile for c in cells))
    lines = ["| tool | " + " | ".join(f"`{p}`" for p in profiles) + " |", "|---|" + "---|" * len(profiles)]
    for tool in dict.fromkeys(c.tool for c in cells):
        row = {c.profile: c for c in cells if c.tool == tool}
        lines.append(f"| `{tool}` | " + " | ".join(f"{row[p].writes} ({row[p].state})" for p in profiles) + " |")
    return "\n".join(lines)


def run(workdir: Path) -> dict[str, Any]:
    """`appliance bench --section writes`: the count for every cell, and the largest (must be 1)."""
    cells = matrix(workdir)
    results: dict[str, Any] = {f"graph_writes.{c.tool}.{c.profile}": c.writes for c in cells}
    results["graph_writes.max_per_confirmed_action"] = max(c.writes for c in cells)
    results["graph_writes.table"] = markdown(cells)
    return results
