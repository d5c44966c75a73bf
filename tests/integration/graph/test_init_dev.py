"""`appliance init --dev`: store, dev configuration and the Aid's sign-in, through a real process; then
the Graph side works from the sealed token cache alone (what `serve --dev` will do)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from appliance.config import load_settings
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.executors import execute
from appliance.store import TenantStore
from appliance.wiring.components import graph_permissions
from appliance.wiring.dev import DEV_CLIENT_ID, DEV_TENANT
from appliance_dev.devtenant import DevTenant

pytestmark = pytest.mark.usefixtures("dev_model_qualified")  # init --dev has a time limit here


def test_init_dev_signs_the_aid_in_and_the_cache_survives_in_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "APPLIANCE_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "appliance", "init", "--dev"], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    assert "signed in to the dev tenant as aid@contoso.com" in result.stdout
    assert "dev = true" in (home / "appliance.toml").read_text()
    settings = load_settings(home)
    assert settings.graph.dev
    with DevTenant(home / "devtenant") as tenant, TenantStore.open(settings) as store:
        assert store.token_cache.load_token_cache()
        endpoints = dev_endpoints(DEV_TENANT, DEV_CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert))
        _identity, gateway = connect(endpoints, graph_permissions(settings), store.token_cache)
        outcome = asyncio.run(execute(gateway, "m365_user_get", {"user": "doug@contoso.com"}, str(uuid.uuid4())))
        assert outcome.outcome == "done" and "Doug Miller" in outcome.message
    again = subprocess.run([sys.executable, "-m", "appliance", "init", "--dev"], env=env, capture_output=True,
                           text=True, timeout=120, check=True)
    assert "wrote [graph]" not in again.stdout  # idempotent: the configuration is kept
