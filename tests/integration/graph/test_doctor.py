"""`appliance doctor` after `appliance init --dev`: every check passes with the dev tenant up, and the
identity check fails clearly (exit 1) when Entra cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from appliance_dev.devtenant import DevTenant
from tests.conftest import SHARED_MODELS_DIR


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
    with DevTenant(home / "devtenant", port=port):
        healthy = _cli(home, "doctor")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    for name in ("catalog", "model", "store", "egress", "identity"):
        assert f"ok    {name}" in healthy.stdout
    assert "dev tenant" in healthy.stdout
    down = _cli(home, "doctor")
    assert down.returncode == 1 and "FAIL  identity" in down.stdout and "ok    store" in down.stdout
