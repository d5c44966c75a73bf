"""`DevStack`: the dev tenant (in this process) and `appliance serve --dev` (a child process) together.

`appliance demo` and the end-to-end tests use it: a fresh $APPLIANCE_HOME is initialised for the dev
tenant, the appliance is started as a real process (so a test can kill -9 it and start it again), and
`client` talks to it as a Teams user would, through the dev tenant over HTTPS.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from appliance.config import CONFIG_FILE_NAME, load_settings
from appliance.store.setup import initialize_store
from appliance.wiring.dev import prepare_dev
from appliance.wiring.models import qualify_for_dev
from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.teams_client import DevTeamsClient


def free_port() -> int:
    """A TCP port nobody listens on right now (on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DevStack:
    """A dev tenant plus the appliance process, on ephemeral ports under `home`."""

    def __init__(self, home: Path, *, extra_config: str = "", models_dir: Path | None = None,
                 qualify: bool = True) -> None:
        self.home = home
        self.qualify = qualify  # run (or reuse this process's) qualification of the model, as `init --dev` does
        self.extra_config = extra_config
        self.models_dir = models_dir
        self.tenant: DevTenant | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home.parent / f"{home.name}-serve.log"
        self.teams_port = 0
        self.client: DevTeamsClient | None = None

    # -- set-up ----------------------------------------------------------------------------------
    def prepare(self) -> DevStack:
        """Start the dev tenant; on a fresh home also create the store, write the dev configuration, sign
        the Aid in and register the bot."""
        fresh = not (self.home / CONFIG_FILE_NAME).exists()
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.tenant = DevTenant(self.home / "devtenant").start()
        if fresh:
            (self.home / CONFIG_FILE_NAME).write_text(self._pinned_sections(), encoding="utf-8")
        self._point_at_tenant()
        if fresh:
            settings = load_settings(self.home)
            initialize_store(settings)
            prepare_dev(settings, lambda message: None, self.tenant, teams_port=free_port())
            if self.qualify:
                self._qualify()
        self.teams_port = load_settings(self.home).teams.port
        self.client = DevTeamsClient(self.tenant.url, str(self.tenant.keys.ca_cert))
        return self

    def _qualify(self) -> None:
        """Qualify the model for this home as `init --dev` does (the model from `models_dir` when given)."""
        before = os.environ.get("APPLIANCE_MODELS_DIR")
        if self.models_dir is not None:
            os.environ["APPLIANCE_MODELS_DIR"] = str(self.models_dir)
        try:
            qualify_for_dev(load_settings(self.home))
        finally:
            if before is None:
                os.environ.pop("APPLIANCE_MODELS_DIR", None)
            else:
                os.environ["APPLIANCE_MODELS_DIR"] = before

    def _pinned_sections(self) -> str:
        return self.extra_config + ("\n" if self.extra_config and not self.extra_config.endswith("\n") else "")

    def _point_at_tenant(self) -> None:
        """Write the dev tenant's current port into [devtenant] (it changes on every start)."""
        assert self.tenant is not None
        path = self.home / CONFIG_FILE_NAME
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#devtenant")]
        text = "\n".join(lines)
        marker = "[devtenant]\n"
        if marker in text + "\n":
            head, _, tail = (text + "\n").partition(marker)
            rest = "\n".join(line for line in tail.splitlines() if not line.startswith(("port", "host")))
            text = head + marker + f'host = "127.0.0.1"\nport = {self.tenant.port}\n' + rest
        else:
            text = text.rstrip("\n") + f'\n\n[devtenant]\nhost = "127.0.0.1"\nport = {self.tenant.port}\n'
        path.write_text(text, encoding="utf-8")

    # -- the appliance process ---------------------------------------------------------------------
    def start_appliance(self, timeout: float = 180.0) -> DevStack:
        """Start `appliance serve --dev` and wait until /readyz answers 200."""
        env = {**os.environ, "APPLIANCE_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        if self.models_dir is not None:
            env["APPLIANCE_MODELS_DIR"] = str(self.models_dir)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "appliance", "serve", "--dev"], env=env,
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        assert self.tenant is not None
        ready = f"https://localhost:{self.teams_port}/readyz"
        deadline = time.monotonic() + timeout
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.tenant.keys.ca_cert)), timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the appliance exited ({self.process.returncode}):\n{self.log_tail()}")
                try:
                    if http.get(ready).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
        raise TimeoutError(f"the appliance was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def kill_appliance(self) -> None:
        """kill -9: no shutdown handler runs (a crash)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop_appliance(self) -> int | None:
        """SIGTERM and wait for a clean stop; returns the exit code."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill_appliance()
        return self.process.returncode if self.process else None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the appliance printed."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    @property
    def bot_url(self) -> str:
        """The appliance's messaging endpoint."""
        return f"https://localhost:{self.teams_port}/api/messages"

    def close(self) -> None:
        """Stop the appliance and the dev tenant."""
        self.stop_appliance()
        if self.client:
            self.client.close()
        if self.tenant:
            self.tenant.stop()

    def __enter__(self) -> DevStack:
        return self.prepare()

    def __exit__(self, *exc: object) -> None:
        self.close()
