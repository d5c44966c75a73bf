"""`appliance mcp tools | token`: what an MCP client sees, and (dev tenant) a token to connect with."""

from __future__ import annotations

import json
import ssl

import click

from appliance.config import load_settings
from appliance.errors import ConfigError


@click.group()
def mcp() -> None:
    """The MCP endpoint (`[mcp] enabled = true`): any MCP orchestrator proposes, the requester confirms in Teams."""


@mcp.command()
@click.option("--json", "as_json", is_flag=True, help="Print the tools/list result as a client receives it.")
def tools(as_json: bool) -> None:
    """The tools a client lists: the enabled catalog (minus `reply`), action_status, pending_actions."""
    from appliance.mcp.tools import describe_tools
    from appliance.wiring.components import enabled_catalog

    described = describe_tools(enabled_catalog(load_settings()))
    if as_json:
        click.echo(json.dumps({"tools": described}, indent=2))
        return
    for tool in described:
        hints = tool.get("annotations", {})
        kind = "reads" if hints.get("readOnlyHint") else "proposes (confirmed in Teams)"
        arguments = ", ".join(tool["inputSchema"].get("properties", {})) or "-"
        click.echo(f"{tool['name']:30} {kind:30} {arguments}")


@mcp.command()
@click.option("--as", "upn", required=True, help="The dev-tenant user the token speaks for.")
@click.option("--client-id", default="dev-mcp-client", show_default=True, help="The agent's client app id (azp).")
def token(upn: str, client_id: str) -> None:
    """Dev tenant only: print an access token for the MCP endpoint, as Entra would issue it after `--as` signs in
    to the agent (paste it as `Authorization: Bearer ...` in the agent's MCP settings)."""
    import httpx

    from appliance.wiring.dev import dev_ca
    from appliance.wiring.mcp import mcp_identity

    settings = load_settings()
    if not settings.graph.dev:
        raise ConfigError("`appliance mcp token` works with the dev tenant only",
                          hint="With a real tenant, the agent signs the person in through Entra (docs/MCP.md).")
    identity = mcp_identity(settings)
    base = f"https://{settings.devtenant.host}:{settings.devtenant.port}"
    verify = ssl.create_default_context(cafile=str(dev_ca(settings)))
    try:
        response = httpx.post(f"{base}/_admin/tokens", verify=verify, timeout=15.0,
                              json={"upn": upn, "client_id": client_id, "scope": identity.scope_uri})
    except httpx.TransportError as exc:
        raise ConfigError(f"the dev tenant does not answer at {base}",
                          hint="Start it with `appliance devtenant up`.") from exc
    if response.status_code != 200:
        raise ConfigError(f"the dev tenant refused: {response.json().get('error_description')}",
                          hint="Check the user and that `appliance init --dev` registered the MCP API.")
    click.echo(response.json()["access_token"])
