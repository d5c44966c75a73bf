"""`appliance doctor` after `appliance init --dev`: every check passes with the dev tenant up, and the
identity check fails clearly (exit 1) when Entra cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from appliance_dev.devtenant import DevTenant
from tests.conftest import SHARED_MODELS_DIR

pytestmark = pytest.mark.usefixtures("dev_model_qualified")  # init --dev has a time limit here


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR)}
    return subprocess.run([sys.executable, "-m", "appliance", *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def test_doctor_passes_with_the_dev_tenant_and_fails_clearly_without_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    (home / "appliance.toml").write_text(f"[devtenant]\nport = {port}\n")
    assert _cli(home, "init", "--dev").returncode == 0
    with DevTenant(home / "devtenant", port=port) as tenant:
        healthy = _cli(home, "doctor")
        aid = tenant.context.state.user("aid@contoso.com")
        assert aid is not None
        aid["directoryRoles"].remove("Groups Administrator")  # an admin forgot one role (or it is only PIM-eligible)
        lacking = _cli(home, "doctor")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    for name in ("catalog", "model", "store", "egress", "identity", "roles", "requesters", "bot", "tls", "llm"):
        assert f"ok    {name}" in healthy.stdout
    assert lacking.returncode == 1 and "FAIL  roles" in lacking.stdout, lacking.stdout
    assert "Groups Administrator (for m365_group_add_member, m365_group_remove_member)" in lacking.stdout
    assert "expiry is unknown" in healthy.stdout and "TLS certificate valid until" in healthy.stdout
    assert "dev tenant" in healthy.stdout
    down = _cli(home, "doctor")
    assert down.returncode == 1 and "FAIL  identity" in down.stdout and "ok    store" in down.stdout


def test_doctor_names_an_empty_requester_list_and_warns_before_the_bot_secret_expires(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    home = tmp_path / "home"
    home.mkdir()
    (home / "appliance.toml").write_text(f"[devtenant]\nport = {_free_port()}\n[gate]\nrequesters = []\n")
    assert _cli(home, "init", "--dev").returncode == 0
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    env = {**os.environ, "APPLIANCE_HOME": str(home)}
    stored = subprocess.run([sys.executable, "-m", "appliance", "teams", "secret", "--expires", soon], env=env,
                            input="a-new-bot-secret-value-123\n", capture_output=True, text=True, check=False)
    assert stored.returncode == 0, stored.stderr
    report = _cli(home, "doctor")
    assert "FAIL  requesters [gate] requesters and requester_groups are both empty" in report.stdout
    assert f"WARNING: it expires on {soon}" in report.stdout and report.returncode == 1
