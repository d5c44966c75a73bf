"""The dev tenant pinned to Microsoft's documents: a running tenant, and plain HTTPS clients holding tokens
it issued (each test names the Microsoft page whose behaviour it checks)."""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.clock import AuditLatency
from appliance_dev.devtenant.state import SEED_PATH

CLIENT_ID = "aidizen-admin"
SEED = json.loads(SEED_PATH.read_text(encoding="utf-8"))
AID_SCOPES = SEED["clients"][CLIENT_ID]["consentedScopes"]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTenant]:
    with DevTenant(tmp_path_factory.mktemp("fidelity") / "devtenant", persist=False) as tenant:
        yield tenant


@pytest.fixture
def tenant(running: DevTenant) -> DevTenant:
    """The module's tenant, reset to the seed (directory, clock, faults, latency, page size, writes)."""
    ctx = running.context
    bots = ctx.state.data.get("bots", {})
    ctx.state.data.clear()
    ctx.state.data.update(copy.deepcopy(SEED), directoryAudits=[], refreshTokens={}, bots=bots)
    ctx.faults.set([])
    ctx.audit_latency = AuditLatency("instant")
    ctx.page_size = 100
    ctx.writes.clear()
    running.connector_limits.reset()
    return running


def token(tenant: DevTenant, upn: str = "aid@contoso.com", scopes: list[str] | None = None) -> str:
    """A Graph access token as the dev tenant's Entra issues it (for `upn`, with `scopes` in `scp`)."""
    user = tenant.context.state.user(upn)
    assert user is not None
    return tenant.context.access_token(user, CLIENT_ID, AID_SCOPES if scopes is None else scopes)


def graph(tenant: DevTenant, bearer: str | None = None) -> httpx.Client:
    """An HTTPS client for the tenant's Graph routes, as the Aid unless `bearer` says otherwise."""
    tls = ssl.create_default_context(cafile=str(tenant.keys.ca_cert))
    return httpx.Client(base_url=f"{tenant.url}/v1.0", verify=tls, timeout=10.0,
                        headers={"Authorization": f"Bearer {bearer or token(tenant)}"})


def entra(tenant: DevTenant) -> httpx.Client:
    """An HTTPS client for the tenant's Entra routes."""
    tls = ssl.create_default_context(cafile=str(tenant.keys.ca_cert))
    return httpx.Client(base_url=tenant.url, verify=tls, timeout=10.0)


def uid(tenant: DevTenant, upn: str) -> str:
    """The object id of a seeded user."""
    user = tenant.context.state.user(upn)
    assert user is not None
    return str(user["id"])


def sku(tenant: DevTenant, part: str) -> str:
    """The skuId of a subscribed SKU."""
    return next(s["skuId"] for s in tenant.context.state.data["subscribedSkus"] if s["skuPartNumber"] == part)


def entries(tenant: DevTenant, **match: Any) -> list[dict[str, Any]]:
    """Directory audit entries in the tenant's state (readable or not) with these field values."""
    return [e for e in tenant.context.state.data["directoryAudits"] if all(e.get(k) == v for k, v in match.items())]
