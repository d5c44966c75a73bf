"""docs/DEPLOY.md's rehearsal block, followed line by line against the dev tenant: each command must
exit 0 in a fresh $APPLIANCE_HOME (`appliance devtenant up &` starts the dev tenant in this process)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from appliance_dev.dev_stack import free_port
from appliance_dev.devtenant import DevTenant
from tests.conftest import REPO_ROOT, SHARED_MODELS_DIR

pytestmark = pytest.mark.usefixtures("dev_model_qualified")  # init --dev has a time limit here

MARKER = "<!-- dev-rehearsal -->"


def rehearsal_lines() -> list[str]:
    text = (REPO_ROOT / "docs/DEPLOY.md").read_text(encoding="utf-8")
    block = text.split(MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_deploy_guide_rehearsal_runs_line_by_line(tmp_path: Path) -> None:
    lines = rehearsal_lines()
    assert lines[0] == "appliance init --dev" and len(lines) >= 6
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    (home / "appliance.toml").write_text(f"[devtenant]\nport = {port}\n")
    env = {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR)}
    tenant: DevTenant | None = None
    try:
        for line in lines:
            if line == "appliance devtenant up &":
                tenant = DevTenant(home / "devtenant", port=port).start()
                continue
            argv = shlex.split(line)
            assert argv[0] == "appliance", line
            done = subprocess.run([sys.executable, "-m", "appliance", *argv[1:]], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=180, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    finally:
        if tenant is not None:
            tenant.stop()
    assert (tmp_path / "perms" / "admin-app.json").exists()
    assert (tmp_path / "nightly.db").exists()
