"""The audit tests' store: three license assignments executed through the real store steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.audit import record_for
from appliance.config import load_settings
from appliance.gate import action_hash
from appliance.store import TenantStore, action_steps, pending_actions
from appliance.store.setup import initialize_store
from appliance.types import ExecutionResult


def _execute(store: TenantStore, n: int, sku: str) -> None:
    """One action through the real store steps: propose, confirm, execute, finish with its record."""
    args = {"user": f"user{n}@contoso.com", "sku": sku}
    summary = f"Assign {sku} to user{n}@contoso.com"
    digest = action_hash("m365_license_assign", args, summary)
    action = store.run(lambda db: action_steps.propose_action(
        db, user_text="assign", action_id=f"a{n}", conversation_ref="teams://msg/c", requester_id="doug-oid",
        tool="m365_license_assign", arguments=args, summary=summary, action_hash=digest,
        expires_at=datetime.now(UTC) + timedelta(minutes=10), requester_upn="doug@contoso.com",
        orchestrator="SmolLM2 (sha256:b179c9523d0e)"))
    assert store.run(pending_actions.confirm, action.id, requester_id="doug-oid", action_hash=digest)
    assert store.run(pending_actions.transition, action.id, "CONFIRMED", "EXECUTING", client_request_id=f"crid-{n}")
    running = store.run(pending_actions.get_action, action.id)
    message = '=HYPERLINK("https://evil.example.com")' if n == 1 else "Assigned."  # a formula in a field
    result = ExecutionResult("m365_license_assign", "done", f"crid-{n}", 200, f"req-{n}", {}, message)
    record = record_for(running, result, executed_at=datetime.now(UTC), implementer="Direct", implementer_name="x")
    assert store.run(action_steps.finish_action, action.id, "DONE", record.fields(), "shape")


@pytest.fixture
def home(appliance_home_dir: Path) -> Path:
    settings = load_settings(appliance_home_dir)
    initialize_store(settings)
    with TenantStore.open(settings) as store:
        for n, sku in enumerate(["ENTERPRISEPACK", "SPE_E5", "SPE_F1"]):
            _execute(store, n, sku)
    return appliance_home_dir
