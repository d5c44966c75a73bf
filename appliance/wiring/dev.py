"""The embedded dev tenant as a complete environment: configuration, the Aid's sign-in, the bot.

`appliance init --dev` calls `prepare_dev`; `appliance serve --dev`, `demo` and `chat` then need
nothing else. In dev, every Microsoft host the appliance talks to (Entra, Graph, Bot Framework, the
Teams service URL) is mapped to the dev tenant's address at the transports, and only its CA is trusted.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.config import CONFIG_FILE_NAME, Settings, load_settings
from appliance.errors import ApplianceError

if TYPE_CHECKING:
    from appliance.wiring.dev_world import DevTenant

DEV_TENANT = "contoso.onmicrosoft.com"
DEV_CLIENT_ID = "aidizen-admin"
DEV_BOT_APP_ID = "aidizen-bot"
DEV_MCP_APP_ID = "aidizen-mcp"  # the MCP API's app registration in the dev tenant (app id URI api://aidizen-mcp)
DEV_HOSTS = ("login.microsoftonline.com", "graph.microsoft.com", "login.botframework.com", "smba.trafficmanager.net")
BOT_SECRET = "teams.app_secret"


class DevWorldMissing(ApplianceError):
    """A dev command on an install without the dev world (e.g. the production image)."""

    hint = (
        "This command needs the dev world, which production installs leave out: in a source checkout run "
        "`make venv` (it installs ./dev), or `pip install -e ./dev`."
    )


def dev_world_installed() -> bool:
    """Whether the dev world (`appliance_dev`, from ./dev) is installed: never in the production image."""
    return importlib.util.find_spec("appliance_dev") is not None


def dev_host_map(settings: Settings) -> dict[str, tuple[str, int]]:
    """Every Microsoft host -> the dev tenant's address."""
    address = (settings.devtenant.host, settings.devtenant.port)
    return dict.fromkeys(DEV_HOSTS, address)


def dev_ca(settings: Settings) -> Path:
    """The dev tenant's CA certificate (the only trust anchor in dev)."""
    return settings.graph.ca_bundle or settings.home / "devtenant" / "ca.pem"


def dev_config(tenant_id: str, home: Path, teams_port: int | None = None) -> dict[str, str]:
    """The sections `init --dev` writes, by section name (each written only if absent)."""
    devtenant = home / "devtenant"
    port = f"port = {teams_port}\n" if teams_port else ""
    return {
        "graph": "[graph]\ndev = true   # written by `appliance init --dev`: Entra and Graph are the dev tenant\n",
        "teams": (
            "[teams]   # written by `appliance init --dev`: the dev tenant plays Teams and the Bot Connector\n"
            f'app_id = "{DEV_BOT_APP_ID}"\napp_tenant_id = "{tenant_id}"\nallowed_tenant_id = "{tenant_id}"\n'
            f'host = "127.0.0.1"\n{port}'
            f'tls_cert = "{devtenant / "server.pem"}"\ntls_key = "{devtenant / "server.key"}"\n'
        ),
        "gate": (
            "[gate]   # written by `appliance init --dev`: who may ask the Aid for changes\n"
            'requester_groups = ["helpdesk@contoso.com"]\nreconcile_after_seconds = 30\n'
        ),
        "engine": DEV_QUALIFICATION,
    }


DEV_QUALIFICATION = (
    "[engine]   # written by `appliance init --dev`: what `models qualify` holds the 135M test model to\n"
    "# (below its measured rates, docs/BENCHMARKS.md); production keeps the defaults 0.90 / 0.80 / 1.0.\n"
    "qualify_right_tool = 0.93\nqualify_fully_right = 0.86\nqualify_emergency_right_tool = 1.0\n"
)


def write_dev_config(settings: Settings, tenant_id: str, teams_port: int | None = None) -> list[str]:
    """Append the dev sections that appliance.toml does not have yet; returns what was written."""
    path = settings.home / CONFIG_FILE_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    written = []
    for name, section in dev_config(tenant_id, settings.home, teams_port).items():
        if f"[{name}]" in text:
            continue
        text += ("\n" if text and not text.endswith("\n\n") else "") + section
        written.append(f"wrote [{name}] to {path}")
    if written:
        path.write_text(text, encoding="utf-8")
    return written


def prepare_dev(
    settings: Settings, show: Callable[[str], None], tenant: DevTenant | None = None, teams_port: int | None = None
) -> list[str]:
    """Configure the dev tenant, sign the Aid in (device code, auto-approved) and register the bot.

    Uses `tenant` if one is running on this home's state, else starts one for the while. Idempotent:
    existing sections are kept; the bot gets a new secret each time (sealed in the store and registered
    with the dev tenant together).
    """
    from appliance.wiring.dev_world import DevTenant

    if tenant is not None:
        return _prepare(settings, show, tenant, teams_port)
    with DevTenant(settings.home / "devtenant", host=settings.devtenant.host) as running:
        return _prepare(settings, show, running, teams_port)


def _prepare(settings: Settings, show: Callable[[str], None], tenant: DevTenant, teams_port: int | None) -> list[str]:
    from appliance.graph.connect import connect, dev_endpoints
    from appliance.graph.sign_in_policy import DEVICE_CODE, SIGN_IN_FLOW_SETTING
    from appliance.store import TenantStore, key_value_settings
    from appliance.wiring.components import graph_permissions

    steps = write_dev_config(settings, tenant.context.state.tenant_id, teams_port)
    settings = load_settings(settings.home)
    if not settings.graph.dev:
        raise ValueError("appliance.toml has a [graph] section without dev = true; not changing it")
    with TenantStore.open(settings) as store:
        endpoints = dev_endpoints(DEV_TENANT, DEV_CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert))
        identity, _ = connect(endpoints, graph_permissions(settings), store.token_cache)
        upn = identity.sign_in_with_device_code(show)
        store.run(key_value_settings.set_setting, SIGN_IN_FLOW_SETTING, DEVICE_CODE)
        secret = secrets.token_urlsafe(32)
        store.put_secret(BOT_SECRET, secret)
    endpoint = f"https://localhost:{settings.teams.port}/api/messages"
    tenant.register_bot(settings.teams.app_id or DEV_BOT_APP_ID, secret, endpoint)
    mcp = settings.mcp
    tenant.register_api(mcp.app_id or DEV_MCP_APP_ID, mcp.app_id_uri or f"api://{mcp.app_id or DEV_MCP_APP_ID}",
                        scopes=[mcp.scope], app_roles=[mcp.app_role])
    steps.append(f"the Aid is signed in to the dev tenant as {upn}; its token cache is sealed in the store")
    steps.append(f"registered the bot {settings.teams.app_id} with the dev tenant (messaging endpoint {endpoint}); "
                 "its client secret is sealed in the store")
    return steps
