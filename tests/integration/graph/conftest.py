"""A dev tenant on an ephemeral port (its own thread), and the Aid signed in to it through real msal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.graph.auth import AidIdentity
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.gateway import GraphGateway
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.token_cache import MemoryTokenCache

CLIENT_ID = "aidizen-admin"
PERMISSIONS = DEFAULT_CATALOG.permissions()


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[DevTenant]:
    with DevTenant(tmp_path / "devtenant", persist=False) as running:
        yield running


@pytest.fixture
def cache() -> MemoryTokenCache:
    return MemoryTokenCache()


@pytest.fixture
def aid(tenant: DevTenant, cache: MemoryTokenCache) -> tuple[AidIdentity, GraphGateway]:
    endpoints = dev_endpoints(
        "contoso.onmicrosoft.com", CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert)
    )
    identity, gateway = connect(endpoints, PERMISSIONS, cache)
    identity.sign_in_with_device_code(lambda message: None)
    gateway.max_wait = 0.05  # keep Retry-After waits short in tests (the wait itself is asserted separately)
    return identity, gateway
