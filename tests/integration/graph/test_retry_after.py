"""Retry-After, honoured and bounded, over real HTTPS (real msal + msgraph-sdk against the dev tenant).

Microsoft Graph answers a throttled request with 429 and a Retry-After header, and a client should wait
that many seconds before retrying (microsoftgraph/microsoft-graph-docs-contrib concepts/throttling.md,
"Best practices to handle throttling"). The gateway waits exactly what the header says, never longer
than its bound, and gives up after its retry limit. The waits are recorded, not slept.
"""

from __future__ import annotations

import uuid

from appliance.graph.auth import AidIdentity
from appliance.graph.executors import execute
from appliance.graph.gateway import GraphGateway
from appliance_dev.devtenant import DevTenant

ASSIGN = {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"}


def _record_waits(gateway: GraphGateway, max_wait: float = 30.0) -> list[float]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    gateway._sleep, gateway.max_wait = sleep, max_wait
    return waits


def _writes(tenant: DevTenant, crid: str) -> int:
    return len([a for a in tenant.context.state.data["directoryAudits"] if a["correlationId"] == crid])


async def test_the_wait_is_what_retry_after_says(tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    waits = _record_waits(gateway)
    tenant.context.faults.set([{"path": "/assignLicense$", "status": 429, "retry_after": 7, "times": 2}])
    crid = str(uuid.uuid4())
    result = await execute(gateway, "m365_license_assign", ASSIGN, crid)
    assert result.outcome == "done" and result.status == 200
    assert waits == [7.0, 7.0] and gateway.attempts[crid] == 3
    assert _writes(tenant, crid) == 1


async def test_a_long_retry_after_is_cut_to_the_bound(tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    waits = _record_waits(gateway, max_wait=30.0)
    tenant.context.faults.set([{"path": "/assignLicense$", "status": 429, "retry_after": 3600, "times": 1}])
    result = await execute(gateway, "m365_license_assign", ASSIGN, str(uuid.uuid4()))
    assert result.outcome == "done" and waits == [30.0]


async def test_without_retry_after_the_backoff_grows_with_jitter_and_stays_bounded(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    waits = _record_waits(gateway, max_wait=3.0)
    # a read (the user look-up before the write): a 503 on a write is never re-sent (it may have landed,
    # tests/integration/graph/test_write_once.py), so the backoff is a read's
    tenant.context.faults.set([{"path": "/users/[^/]+$", "method": "GET", "status": 503, "times": 3}])
    result = await execute(gateway, "m365_license_assign", ASSIGN, str(uuid.uuid4()))
    assert result.outcome == "done" and len(waits) == 3, (result, waits)
    assert 0.5 <= waits[0] <= 1.5 and 1.0 <= waits[1] <= 3.0 and 2.0 <= waits[2] <= 3.0


async def test_throttled_for_good_gives_up_after_the_retry_limit_and_changes_nothing(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    waits = _record_waits(gateway)
    tenant.context.faults.set([{"path": "/assignLicense$", "status": 429, "retry_after": 2}])
    crid = str(uuid.uuid4())
    result = await execute(gateway, "m365_license_assign", ASSIGN, crid)
    assert result.outcome == "failed" and result.status == 429
    assert waits == [2.0] * gateway.max_retries and gateway.attempts[crid] == gateway.max_retries + 1
    assert _writes(tenant, crid) == 0
