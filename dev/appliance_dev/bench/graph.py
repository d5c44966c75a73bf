"""The Graph section of `appliance bench`: calls per second through the whole executor stack (msal token
cache, msgraph-sdk, middleware, egress transport, TLS) against the dev tenant, and the dev tenant's own
cost measured in the same run (the same GET over a plain httpx client with the same token)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx

from appliance.catalog import DEFAULT_CATALOG
from appliance.egress.httpx_transport import tls_context
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.executors import execute
from appliance.graph.gateway import GraphGateway
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.token_cache import MemoryTokenCache

CLIENT_ID = "aidizen-admin"


async def _executor_rate(gateway: GraphGateway, calls: int, concurrency: int) -> float:
    async def one() -> None:
        result = await execute(gateway, "m365_user_get", {"user": "sarah.lin@contoso.com"}, str(uuid.uuid4()))
        assert result.outcome == "done", result.message

    started = time.perf_counter()
    for start in range(0, calls, concurrency):
        await asyncio.gather(*(one() for _ in range(min(concurrency, calls - start))))
    return calls / (time.perf_counter() - started)


async def _raw_rate(tenant: DevTenant, token: str, calls: int, concurrency: int) -> float:
    url = f"{tenant.url}/v1.0/users/sarah.lin@contoso.com"
    async with httpx.AsyncClient(verify=tls_context(str(tenant.keys.ca_cert))) as client:

        async def one() -> None:
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200

        started = time.perf_counter()
        for start in range(0, calls, concurrency):
            await asyncio.gather(*(one() for _ in range(min(concurrency, calls - start))))
        return calls / (time.perf_counter() - started)


def run(workdir: Path, calls: int = 200) -> dict[str, float]:
    """Sequential and 10-way concurrent rates, executor stack vs the dev tenant alone."""
    permissions = DEFAULT_CATALOG.permissions()
    with DevTenant(workdir / "devtenant", persist=False) as tenant:
        endpoints = dev_endpoints("contoso.onmicrosoft.com", CLIENT_ID, (tenant.host, tenant.port),
                                  str(tenant.keys.ca_cert))
        identity, gateway = connect(endpoints, permissions, MemoryTokenCache())
        identity.sign_in_with_device_code(lambda message: None)
        token = identity.access_token()

        async def measure() -> dict[str, float]:
            await _executor_rate(gateway, 10, 1)  # warm-up: msgraph loads its models on first use
            await _raw_rate(tenant, token, 10, 1)
            results = {}
            for concurrency in (1, 10):
                executor = await _executor_rate(gateway, calls, concurrency)
                raw = await _raw_rate(tenant, token, calls, concurrency)
                results[f"graph.executor_calls_per_s.c{concurrency}"] = executor
                results[f"graph.devtenant_calls_per_s.c{concurrency}"] = raw
                results[f"graph.executor_overhead_ms.c{concurrency}"] = (1 / executor - 1 / raw) * 1000
            return results

        return asyncio.run(measure())
