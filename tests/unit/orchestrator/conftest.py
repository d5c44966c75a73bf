"""The orchestrator with a real SQLCipher ledger, a scripted model and fake Graph (unit scope)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.orchestrator import AidPolicy, OutboxFor, TurnHandler
from appliance.store import TenantStore
from appliance.store.keys import FileKeyProvider
from appliance.store.ledger import StoreLedger
from appliance.types import DirectoryEntry, Person, Turn
from appliance_dev.testing.fake_graph import FakeDirectory, FakeTools
from appliance_dev.testing.outbox import RecordingOutbox
from appliance_dev.testing.scripted_engine import ScriptedProposer

DOUG = Person("d0d0d0d0-0000-4000-8000-000000000001", "doug@contoso.com", "Doug Miller", True,
              frozenset({"helpdesk@contoso.com"}))
EVE = Person("e0e0e0e0-0000-4000-8000-000000000002", "eve@contoso.com", "Eve", True,
             frozenset({"helpdesk@contoso.com"}))
MALLORY = Person("a0a0a0a0-0000-4000-8000-000000000003", "mallory@contoso.com", "Mallory", True)
UPN = re.compile(r"[\w.]+@[\w.]+")
PEOPLE = (DirectoryEntry("leaver@contoso.com", "Lee Vere", "Sales"),
          DirectoryEntry("tom.becker@contoso.com", "Tom Becker", "Finance"),
          DirectoryEntry("tom.fischer@contoso.com", "Tom Fischer", "Radiology"),
          DirectoryEntry("sarah.lin@contoso.com", "Sarah Lin", "Finance"))
GROUPS = (DirectoryEntry("finance@contoso.com", "Finance"), DirectoryEntry("helpdesk@contoso.com", "Helpdesk"))


def script(text: str) -> tuple[str, dict[str, Any]] | None:
    """A tiny stand-in for the model: enough to drive every branch of the orchestrator."""
    users = UPN.findall(text)
    if text.startswith("fail"):
        return None
    if text.startswith("assign") and users:
        return "m365_license_assign", {"user": users[0], "sku": "ENTERPRISEPACK"}
    if text.startswith("disable") and users:
        return "m365_user_disable", {"user": users[0]}
    if text.startswith("who") and users:
        return "m365_user_get", {"user": users[0]}
    if text.startswith("disable ") and not users:  # a name: "disable Lee Vere"
        return "m365_user_disable", {"user": text.removeprefix("disable ")}
    if text.startswith("put ") and " in " in text:  # "put <name> in <group name>"
        user, group = text.removeprefix("put ").split(" in ", 1)
        return "m365_group_add_member", {"user": user, "group": group}
    if text.startswith("what is waiting"):
        return "aid_pending_list", {}
    if text.startswith("cancel that") or text.startswith("cancel all"):
        return "aid_pending_cancel", {"which": "all" if text.startswith("cancel all") else "last"}
    if text.startswith("audit"):
        return "m365_audit_query", {"days": 7, "tool": "any"}
    return "reply", {"intent": "ask_who", "about": "account"}


def yes(outbox: RecordingOutbox) -> str:
    """A typed confirmation of the newest card that shows a code, as a person would type it from the card."""
    codes = [card.confirm_code for card in outbox.cards.values() if card.confirm_code]
    assert codes, "no waiting card shows a code"
    return f"yes {codes[-1]}"


@dataclass
class Clock:
    """Starts at the real time (the store stamps rows with it) and moves only when told."""

    moment: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Aid:
    handler: TurnHandler
    ledger: StoreLedger
    tools: FakeTools
    directory: FakeDirectory
    proposer: ScriptedProposer
    clock: Clock
    outbox_for: OutboxFor | None = None

    def connect(self, outbox_for: OutboxFor) -> None:
        """Make conversations reachable proactively (what wiring does once Teams is up)."""
        self.outbox_for = outbox_for
        self.handler.connect(outbox_for)

    def with_policy(self, **changes: Any) -> None:
        """The same Aid (ledger, tools, directory, model, clock, connection) under a changed policy."""
        policy = replace(self.handler.policy, **changes)
        self.handler = TurnHandler(catalog=self.handler.catalog, proposer=self.proposer, ledger=self.ledger,
                                   tools=self.tools, directory=self.directory, policy=policy, clock=self.clock)
        if self.outbox_for is not None:
            self.handler.connect(self.outbox_for)

    async def say(self, person: Person, text: str, outbox: RecordingOutbox, conversation: str = "") -> None:
        conv = conversation or f"teams://msg/{person.object_id}"
        await self.handler.handle_turn(Turn(conv, "act", person.object_id, person.display_name, text), outbox)

    async def press(self, person: Person, card: dict[str, Any] | None, outbox: RecordingOutbox,
                    conversation: str = "") -> None:
        conv = conversation or f"teams://msg/{person.object_id}"
        await self.handler.handle_turn(Turn(conv, "act", person.object_id, person.display_name, "", card), outbox)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TenantStore]:
    key = tmp_path / "store.key"
    FileKeyProvider(key, tmp_path / "home").create()
    opened = TenantStore(tmp_path / "home" / "appliance.db", FileKeyProvider(key, tmp_path / "home"), create=True)
    yield opened
    opened.close()


@pytest.fixture
def aid(store: TenantStore) -> Aid:
    tools = FakeTools()
    directory = FakeDirectory({p.object_id: p for p in (DOUG, EVE, MALLORY)}, tools, directory=list(PEOPLE),
                              groups=list(GROUPS))
    proposer = ScriptedProposer(script)
    clock = Clock()
    ledger = StoreLedger(store)
    policy = AidPolicy(aid_upn="aid@contoso.com", requester_groups=("helpdesk@contoso.com",),
                       reviewers=("eve@contoso.com",), reconcile_after_seconds=60)
    handler = TurnHandler(catalog=DEFAULT_CATALOG, proposer=proposer, ledger=ledger, tools=tools,
                          directory=directory, policy=policy, clock=clock)
    return Aid(handler, ledger, tools, directory, proposer, clock)


def ops_events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, Any]]]:
    """The operator's log events captured so far: (event, fields)."""
    return [(str(r.msg), dict(r.ops_fields)) for r in caplog.records if r.name == "aidizen.ops"]  # type: ignore[attr-defined]


@pytest.fixture
def ops(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog, capturing the operator's log (`aidizen.ops`) from INFO up."""
    caplog.set_level(logging.INFO, logger="aidizen.ops")
    return caplog
