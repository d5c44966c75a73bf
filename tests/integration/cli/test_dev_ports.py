"""`devtenant up --port P` and `serve --dev --port Q` find each other; another stack on the configured
port is refused in one line (no silent cross-talk); a busy port is one line, not a traceback."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from appliance.wiring.dev_address import live_address
from appliance_dev.dev_stack import free_port
from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.teams_client import DevTeamsClient
from tests.conftest import SHARED_MODELS_DIR

pytestmark = pytest.mark.usefixtures("dev_model_qualified")  # init --dev has a time limit here


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR),
            "PYTHONUNBUFFERED": "1"}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "appliance", *args], env=_env(home), capture_output=True,
                          text=True, timeout=180, check=False)


def _init(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "appliance.toml").write_text(f"[devtenant]\nport = {free_port()}\n")
    result = _cli(home, "init", "--dev")
    assert result.returncode == 0, result.stderr


def _wait(check: object, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def test_devtenant_up_and_serve_on_other_ports_find_each_other(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _init(home)
    tenant_port, serve_port = free_port(), free_port()
    up = subprocess.Popen([sys.executable, "-m", "appliance", "devtenant", "up", "--port", str(tenant_port)],
                          env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    serve = None
    try:
        _wait(lambda: live_address(home) is not None, "devtenant up did not record its address")
        assert live_address(home)["port"] == tenant_port  # type: ignore[index]
        serve = subprocess.Popen([sys.executable, "-m", "appliance", "serve", "--dev", "--port", str(serve_port)],
                                 env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        tls = ssl.create_default_context(cafile=str(home / "devtenant" / "ca.pem"))

        def ready() -> bool:
            assert serve is not None and serve.poll() is None, serve.stdout.read() if serve.stdout else ""
            try:
                return httpx.get(f"https://localhost:{serve_port}/readyz", verify=tls, timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        _wait(ready, "serve --dev did not become ready")
        teams = DevTeamsClient(f"https://127.0.0.1:{tenant_port}", str(home / "devtenant" / "ca.pem"))
        try:
            _, events = teams.ask("doug@contoso.com", "Who is sarah.lin@contoso.com?")
        finally:
            teams.close()
        assert any(e["event"] == "message" for e in events), events  # Teams reached serve on its new port
    finally:
        for process in (serve, up):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)


def test_another_stack_on_the_configured_port_is_refused_in_one_line(tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    _init(mine)
    _init(other)
    port = int((mine / "appliance.toml").read_text().split("port = ")[1].split()[0])
    with DevTenant(other / "devtenant", port=port):  # the other home's tenant took my port
        result = _cli(mine, "serve", "--dev")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "is another stack's" in lines[0] and "Traceback" not in result.stderr
    nobody = _cli(mine, "serve", "--dev")  # and with nothing listening
    assert nobody.returncode == 2 and "does not answer at" in nobody.stderr and "Traceback" not in nobody.stderr


def test_devtenant_up_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _init(home)
    with DevTenant(tmp_path / "squatter", port=0) as squatter:
        result = _cli(home, "devtenant", "up", "--port", str(squatter.port))
    assert result.returncode == 2 and "cannot listen on" in result.stderr and "Traceback" not in result.stderr
