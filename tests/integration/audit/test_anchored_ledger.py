"""Every way the serving ledger appends an audit record is followed by a signed checkpoint of the new head
(store/audit_anchor.py `AnchoredLedger`): the finish of a Graph call, and the records of actions closed
without one (cancelled, expired, refused) and of operator actions. A path without one would leave its
newest record deletable without `appliance audit verify` noticing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit.anchor import LOG_EVENT
from appliance.config import load_settings
from appliance.gate import action_hash
from appliance.store import TenantStore, action_steps, audit_records
from appliance.store.audit_anchor import AnchoredLedger
from appliance.types import ActionState, PendingAction


def _record_of(action: PendingAction) -> dict[str, Any]:
    return {"ToolName": action.tool, "RequestedBy": "doug@contoso.com", "Outcome": "Refused",
            "ActionId": action.id}


def _propose(store: TenantStore, action_id: str, expires_at: datetime) -> None:
    args = {"user": "sarah.lin@contoso.com", "sku": "SPE_E5"}
    summary = "Assign SPE_E5 to sarah.lin@contoso.com"
    store.run(lambda db: action_steps.propose_action(
        db, user_text="assign", action_id=action_id, conversation_ref="teams://msg/c", requester_id="doug-oid",
        tool="m365_license_assign", arguments=args, summary=summary,
        action_hash=action_hash("m365_license_assign", args, summary), expires_at=expires_at,
        requester_upn="doug@contoso.com", orchestrator="scripted"))


async def test_each_appended_record_is_followed_by_a_checkpoint_of_the_new_head(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aidizen.ops")
    with TenantStore.open(load_settings(home)) as store:
        ledger = AnchoredLedger(store, Ed25519PrivateKey.generate())

        def checkpoints() -> list[tuple[int, str]]:
            return [(int(r.ops_fields["count"]), str(r.ops_fields["head"]))  # type: ignore[attr-defined]
                    for r in caplog.records if r.name == "aidizen.ops" and r.msg == LOG_EVENT]

        now = datetime.now(UTC)
        _propose(store, "cancel-me", now + timedelta(minutes=10))
        _propose(store, "expire-me", now - timedelta(seconds=1))
        assert await ledger.close_action("cancel-me", ActionState.AWAITING, ActionState.CANCELLED, _record_of)
        assert checkpoints() == [store.run(audit_records.head)] and checkpoints()[0][0] == 4
        assert await ledger.close_action("cancel-me", ActionState.AWAITING, ActionState.CANCELLED,
                                         _record_of) is None  # nothing appended, nothing signed
        assert len(checkpoints()) == 1
        assert [a.id for a in await ledger.expire_due(now, _record_of)] == ["expire-me"]
        assert checkpoints()[-1] == store.run(audit_records.head) and checkpoints()[-1][0] == 5
        assert await ledger.expire_due(now, _record_of) == [] and len(checkpoints()) == 2
        await ledger.append_record({"ToolName": "retention_purge", "RequestedBy": "operator", "Outcome": "Success"})
        assert len(checkpoints()) == 3 and checkpoints()[-1] == store.run(audit_records.head)
        assert checkpoints()[-1][0] == 6
