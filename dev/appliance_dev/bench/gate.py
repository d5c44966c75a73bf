"""In-process confirmation throughput: the orchestrator, a real SQLCipher ledger and real Graph (msal +
msgraph-sdk over HTTPS to the dev tenant), with a scripted proposer and recording outboxes instead of
the model and Teams. Many conversations confirm at once; the clock covers confirm -> EXECUTING ->
Graph -> DONE + audit record -> card update and reply (and the audit-entry join)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from appliance.catalog import DEFAULT_CATALOG
from appliance.gate import card_payload
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.directory import GraphDirectory
from appliance.graph.executors import GraphTools
from appliance.orchestrator import AidPolicy, TurnHandler
from appliance.store import TenantStore
from appliance.store.keys import FileKeyProvider
from appliance.store.ledger import StoreLedger
from appliance.types import Turn
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.outbox import RecordingOutbox
from appliance_dev.testing.scripted_engine import ScriptedProposer
from appliance_dev.testing.token_cache import MemoryTokenCache

TARGET = {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"}


def run(workdir: Path, conversations: int = 100) -> dict[str, Any]:
    """Confirmations per second with `conversations` conversations confirming at once."""
    workdir.mkdir(parents=True, exist_ok=True)
    keys = FileKeyProvider(workdir / "bench.key", workdir / "home")
    keys.create()
    with DevTenant(workdir / "devtenant", persist=False) as tenant, \
            TenantStore(workdir / "home" / "appliance.db", keys, create=True) as store:
        endpoints = dev_endpoints("contoso.onmicrosoft.com", "aidizen-admin", (tenant.host, tenant.port),
                                  str(tenant.keys.ca_cert))
        identity, gateway = connect(endpoints, DEFAULT_CATALOG.permissions(), MemoryTokenCache())
        identity.sign_in_with_device_code(lambda message: None)
        people = [u for u in tenant.context.state.data["users"] if u["userPrincipalName"] != "aid@contoso.com"]
        policy = AidPolicy(aid_upn="aid@contoso.com", requesters=tuple(u["userPrincipalName"] for u in people))
        handler = TurnHandler(catalog=DEFAULT_CATALOG, proposer=ScriptedProposer(lambda text: ("m365_license_assign",
                              dict(TARGET))), ledger=StoreLedger(store), tools=GraphTools(gateway),
                              directory=GraphDirectory(gateway), policy=policy)

        async def measure() -> dict[str, Any]:
            outboxes = [RecordingOutbox() for _ in range(conversations)]
            turns = [Turn(f"teams://msg/bench-{i}", f"a{i}", people[i % len(people)]["id"], "", "assign")
                     for i in range(conversations)]
            for turn, outbox in zip(turns, outboxes, strict=True):  # propose (not timed)
                await handler.handle_turn(turn, outbox)
            presses = []
            for turn, outbox in zip(turns, outboxes, strict=True):
                card = next(iter(outbox.cards.values()))
                value = card_payload("confirm", card.action_id, card.action_hash)
                presses.append((Turn(turn.conversation_ref, "c", turn.requester_id, "", "", value), outbox))
            started = time.perf_counter()
            await asyncio.gather(*(handler.handle_turn(turn, outbox) for turn, outbox in presses))
            seconds = time.perf_counter() - started
            done = sum(any("Assigned" in text for text in outbox.said) for outbox in outboxes)
            return {"e2e.inprocess_concurrent_confirmations": conversations, "e2e.inprocess_done": done,
                    "e2e.inprocess_confirmations_per_s": conversations / seconds}

        return asyncio.run(measure())
