"""Issue 15, item 1: one confirmed action, one Graph write. A write that may have reached Graph (it outlasted
the client timeout, Graph committed then answered 504, the connection dropped after sending) is never sent
again; the outcome is left to the directory audit log. Before the fix these writes were retried as
"idempotent": two directory audit entries for one action, and for a password reset two different passwords.

Only APIs that existed before the fix are used here (`execute`, the dev tenant's fault rules), so this file
runs against the old code too, where it fails."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from appliance.graph.auth import AidIdentity
from appliance.graph.executors import execute
from appliance.graph.gateway import GraphGateway
from appliance_dev.devtenant import DevTenant

CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "m365_password_reset": ({"user": "priya.n@contoso.com"}, r"^/v1\.0/users/[^/]+$", "PATCH"),
    "m365_license_assign": ({"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"}, r"/assignLicense$", "POST"),
    "m365_group_add_member": ({"group": "finance@contoso.com", "user": "mike.chan@contoso.com"},
                              r"/members/\$ref$", "POST"),
    "m365_sessions_revoke": ({"user": "mike.chan@contoso.com"}, r"/revokeSignInSessions$", "POST"),
}
FAULTS = {
    "commit_then_504": {"commit": True, "status": 504},
    "commit_then_drop": {"commit": True, "drop": True},
    "slow_commit_past_the_client_timeout": {"latency_ms": 2500},
}


def _short_client_timeout(gateway: GraphGateway, seconds: float) -> None:
    http: httpx.AsyncClient = gateway.client.request_adapter._http_client  # type: ignore[attr-defined]
    http.timeout = httpx.Timeout(seconds)


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("tool", sorted(CASES))
async def test_a_write_that_may_have_reached_graph_is_never_sent_again(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway], tool: str, fault: str
) -> None:
    _, gateway = aid
    _short_client_timeout(gateway, 1.0)
    arguments, path, method = CASES[tool]
    tenant.context.faults.set([{"path": path, "method": method, "times": 1, **FAULTS[fault]}])
    crid = str(uuid.uuid4())
    started = time.monotonic()
    result = await execute(gateway, tool, arguments, crid)
    if fault.startswith("slow"):  # the first attempt lands 2.5 s in, after the client gave up: count after it
        await asyncio.sleep(max(0.0, started + 3.5 - time.monotonic()))
    entries = [a for a in tenant.context.state.data["directoryAudits"] if a["correlationId"] == crid]
    assert len(entries) == 1, f"{len(entries)} directory audit entries for one confirmed {tool}"
    assert result.outcome != "failed" and "nothing was changed" not in result.message.lower()
