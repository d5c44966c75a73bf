"""How `appliance devtenant up --port P` and `appliance serve --dev --port Q` find each other.

`devtenant up` writes where it listens to `$APPLIANCE_HOME/devtenant/address.json` (host, port, process,
tenant id) and removes it when it stops. `serve --dev` (and `chat --dev`) use that address when its
process is alive, then check before anything else that the dev tenant answers there and is THIS home's
tenant (its tenant id is the one in `[teams] allowed_tenant_id`), so a stack never talks to another stack
that happens to listen on the default port. With `--port Q`, serve re-registers the bot's messaging
endpoint at the dev tenant, so Teams messages reach port Q. Every failure is one line: what, and what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
from pathlib import Path
from typing import Any

import httpx

from appliance.config import Settings
from appliance.errors import ConfigError

ADDRESS_FILE = "address.json"


def address_path(home: Path) -> Path:
    """`$APPLIANCE_HOME/devtenant/address.json`."""
    return home / "devtenant" / ADDRESS_FILE


def write_address(home: Path, host: str, port: int, tenant_id: str) -> Path:
    """Record where this process's dev tenant listens (mode 0600)."""
    path = address_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"host": host, "port": port, "pid": os.getpid(), "tenant_id": tenant_id}))
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def remove_address(home: Path) -> None:
    """Forget the address (when `devtenant up` stops)."""
    with contextlib.suppress(FileNotFoundError):
        address_path(home).unlink()


def live_address(home: Path) -> dict[str, Any] | None:
    """The recorded address if its process is still running, else None."""
    try:
        recorded = json.loads(address_path(home).read_text(encoding="utf-8"))
        os.kill(int(recorded["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return recorded if isinstance(recorded, dict) else None


def with_running_dev_tenant(settings: Settings) -> Settings:
    """`settings` pointed at the dev tenant `devtenant up` recorded for this home (if one runs)."""
    recorded = live_address(settings.home)
    if recorded is None:
        return settings
    devtenant = settings.devtenant.model_copy(update={"host": str(recorded["host"]), "port": int(recorded["port"])})
    return settings.model_copy(update={"devtenant": devtenant})


def check_dev_tenant(settings: Settings) -> str:
    """The dev tenant answers at [devtenant] host:port and is this home's tenant; one line, or ConfigError."""
    from appliance.wiring.dev import DEV_TENANT, dev_ca

    where = f"{settings.devtenant.host}:{settings.devtenant.port}"
    start = "Start it with `appliance devtenant up` (same APPLIANCE_HOME), or `appliance init --dev` first."
    ca = dev_ca(settings)
    if not ca.exists():
        raise ConfigError(f"no dev tenant CA at {ca}: this home was never set up for the dev tenant", hint=start)
    url = f"https://{where}/{DEV_TENANT}/v2.0/.well-known/openid-configuration"
    other = "Start this home's own dev tenant (`appliance devtenant up --port P`, same APPLIANCE_HOME); serve finds it."
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=5.0) as http:
            issuer = str(http.get(url).json().get("issuer", ""))
    except (httpx.HTTPError, ValueError, ssl.SSLError) as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # each home's dev tenant has its own CA
            raise ConfigError(f"the dev tenant at {where} is another stack's (its certificate is not from this "
                              "home's dev CA)", hint=other) from None
        raise ConfigError(f"the dev tenant does not answer at {where}", hint=start) from None
    expected = settings.teams.allowed_tenant_id
    if expected and f"/{expected}/" not in issuer:
        raise ConfigError(f"the dev tenant at {where} is another stack's (issuer {issuer}); this home expects tenant "
                          f"{expected}", hint=other)
    return f"dev tenant {where} (tenant {expected or 'unchecked'})"


def reregister_bot_endpoint(settings: Settings, secret: str) -> str:
    """Point the dev tenant's Teams at this serve's port (after `serve --dev --port Q`)."""
    from appliance.wiring.dev import DEV_BOT_APP_ID, dev_ca

    endpoint = f"https://localhost:{settings.teams.port}/api/messages"
    url = f"https://{settings.devtenant.host}:{settings.devtenant.port}/_admin/teams/bot"
    body = {"app_id": settings.teams.app_id or DEV_BOT_APP_ID, "secret": secret, "endpoint": endpoint}
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(dev_ca(settings))), timeout=5.0) as http:
            http.post(url, json=body).raise_for_status()
    except httpx.HTTPError:
        raise ConfigError(f"could not point the dev tenant's Teams at {endpoint}",
                          hint="Restart `appliance devtenant up` for this home and try again.") from None
    return endpoint
