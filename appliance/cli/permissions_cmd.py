"""`appliance permissions [--json] [--out DIR [--force] [--skip-unverified]]`: the two app registrations."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError
from appliance.graph.mcp_registration import McpRegistration, mcp_manifest
from appliance.graph.registrations import (
    AdminRegistration,
    ChatRegistration,
    admin_manifest,
    admin_registration,
    chat_manifest,
)
from appliance.wiring.components import enabled_catalog

CHAT_FILE = "chat-app.json"
ADMIN_FILE = "admin-app.json"
MCP_FILE = "mcp-app.json"


def _mcp_registration(settings: Settings) -> McpRegistration | None:
    """The MCP API's registration when `[mcp] enabled = true`, else None."""
    if not settings.mcp.enabled:
        return None
    mcp = settings.mcp
    host = "localhost" if mcp.host in ("0.0.0.0", "127.0.0.1", "::", "") else mcp.host
    return McpRegistration(scope=mcp.scope, app_role=mcp.app_role,
                           app_id_uri=mcp.audience_uri or "api://<the registration's application id>",
                           resource_url=mcp.public_url or f"https://{host}:{mcp.port}/mcp")


def _print_mcp(mcp: McpRegistration) -> None:
    click.echo()
    click.secho("3. mcp: the API the MCP endpoint protects ([mcp] enabled)", bold=True)
    click.echo(f"   Entra app registration: single-tenant ({mcp.sign_in_audience}), "
               f"Application ID URI {mcp.app_id_uri},")
    click.echo(f"   v{mcp.token_version} access tokens; no credential and no API permissions of its own")
    click.echo(f"   exposed delegated scope: {mcp.app_id_uri}/{mcp.scope} (admin consent only)")
    click.echo(f"   app role: {mcp.app_role} (assign it to the people who may use an agent; set")
    click.echo("   \"Assignment required\" on the enterprise application so nobody else gets a token)")
    click.echo(f"   agents connect to {mcp.resource_url}; set [mcp] app_id to the registration's application id")


class ManifestExistsError(ApplianceError):
    """A manifest file is already there and --force was not given."""

    hint = "Pick another --out directory, move the files away, or pass --force to overwrite them."


def _describe(admin: AdminRegistration, chat: ChatRegistration) -> dict[str, Any]:
    """The `--json` form of both registrations."""
    return {
        "chat": {
            "sign_in_audience": chat.sign_in_audience,
            "azure_bot_type": chat.bot_type,
            "credential": chat.credential,
            "token_scope": chat.token_scope,
            "messaging_endpoint": chat.messaging_endpoint,
            "teams_scopes": list(chat.teams_scopes),
            "graph_permissions": list(chat.graph_permissions),
        },
        "admin": {
            "sign_in_audience": "AzureADMyOrg",
            "public_client": True,
            "graph_permissions": [
                {
                    "scope": n.scope,
                    "id": n.id,
                    "type": "Scope",
                    "verified": n.verified,
                    "tools": list(n.tools),
                    **({"note": n.note} if n.note else {}),
                }
                for n in admin.scopes
            ],
            "roles": [{"role": r.role, "tools": list(r.tools)} for r in admin.roles],
            "unverified": admin.unverified,
        },
    }


def _print_text(admin: AdminRegistration, chat: ChatRegistration) -> None:
    click.secho("1. chat: the bot (Teams reaches the Aid through it)", bold=True)
    click.echo(f"   Entra app registration: single-tenant ({chat.sign_in_audience}), with {chat.credential}")
    click.echo(
        f"   Azure Bot resource: type {chat.bot_type}, Microsoft Teams channel on, "
        f"messaging endpoint {chat.messaging_endpoint}"
    )
    click.echo("   API permissions: none. Teams sends each DM to the endpoint with a Bot Framework JWT (audience =")
    click.echo("   the app id); replies go through the Bot Connector with a client-credentials token for")
    click.echo(f"   {chat.token_scope}. Neither uses Microsoft Graph, so there is nothing to consent to.")
    click.echo(f"   Teams app manifest: bots[].scopes = {list(chat.teams_scopes)} (DMs only)")
    click.echo()
    click.secho("2. admin: the Aid's delegated Microsoft Graph access", bold=True)
    click.echo("   Entra app registration: single-tenant public client (device-code sign-in as the Aid,")
    click.echo("   admin consent once)")
    click.echo(f"   delegated Microsoft Graph permissions ({len(admin.scopes)}):")
    for need in admin.scopes:
        ident = need.id if need.verified else "NO VERIFIED ID"
        click.echo(f"     {need.scope:36} {ident:36}  {', '.join(need.tools)}")
    click.echo("   Entra roles the Aid's user must hold (a delegated call needs the scope AND the role):")
    for role in admin.roles:
        click.echo(f"     {role.role:30} {', '.join(role.tools)}")
    if not admin.roles:
        click.echo("     (none)")
    for need in admin.scopes:
        if not need.verified:
            click.secho(f"   warning: {need.scope}: {need.note}", fg="yellow")


def _write(out: Path, manifests: dict[str, dict[str, Any]], force: bool) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    existing = [out / name for name in manifests if (out / name).exists()]
    if existing and not force:
        raise ManifestExistsError(f"{', '.join(str(p) for p in existing)} already there; nothing was written")
    written = []
    for name, manifest in manifests.items():
        path = out / name
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.chmod(path, 0o644)  # a manifest holds no secret: readable by whoever applies it
        written.append(path)
    return written


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print both registrations as one JSON object.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Write {CHAT_FILE} and {ADMIN_FILE} (Entra app manifests) into this directory.",
)
@click.option("--force", is_flag=True, help="Overwrite manifest files that already exist in --out.")
@click.option(
    "--skip-unverified",
    is_flag=True,
    help="Write the admin manifest without the permissions that have no verified id (add them by hand).",
)
@click.option(
    "--name", "name_prefix", default="aidizen", show_default=True, help="Display-name prefix of the two registrations."
)
def permissions(as_json: bool, out: Path | None, force: bool, skip_unverified: bool, name_prefix: str) -> None:
    """Print the Entra app registrations the appliance needs (two; three with [mcp] enabled), least privilege first.

    chat: the Teams bot. A single-tenant registration with a credential and NO API permissions: receiving
    DMs and replying as the Aid goes through the Bot Framework, not Microsoft Graph.

    admin: the Aid's delegated Graph access. Exactly what the Aid asks consent for: the enabled tools'
    permissions (a tool in [catalog] disabled_tools drops out) plus the directory reads the appliance
    itself does ("appliance"), and the Entra roles the Aid's user must hold, with which tools need each.

    mcp ([mcp] enabled = true): the API the MCP endpoint protects: an admin-consent delegated scope and a
    user-assignable app role; agents get tokens for it from Entra.

    With --out DIR, also write them as Entra app manifests (Microsoft Graph `application` JSON, Graph
    permissions by id). Existing files are kept unless --force. A permission whose id no verified source
    gives is never written: the command stops and says which, unless --skip-unverified.
    """
    settings = load_settings()
    admin = admin_registration(enabled_catalog(settings))
    chat = ChatRegistration()
    mcp = _mcp_registration(settings)
    if as_json:
        described = _describe(admin, chat)
        if mcp is not None:
            described["mcp"] = {"app_id_uri": mcp.app_id_uri, "scope": mcp.scope, "app_role": mcp.app_role,
                                "consent": "Admin", "resource": mcp.resource_url}
        click.echo(json.dumps(described, indent=2))
    else:
        _print_text(admin, chat)
        if mcp is not None:
            _print_mcp(mcp)
    if out is None:
        return
    manifests = {
        CHAT_FILE: chat_manifest(display_name=f"{name_prefix}-chat"),
        ADMIN_FILE: admin_manifest(admin, display_name=f"{name_prefix}-admin", skip_unverified=skip_unverified),
    }
    if mcp is not None:
        manifests[MCP_FILE] = mcp_manifest(mcp, display_name=f"{name_prefix}-mcp")
    for path in _write(out, manifests, force):
        click.echo(f"wrote {path}", err=as_json)
    if admin.unverified:
        click.secho(
            f"left out of {ADMIN_FILE} (add by name in the Entra admin center): {', '.join(admin.unverified)}",
            fg="yellow",
            err=as_json,
        )
