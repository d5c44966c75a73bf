"""`appliance teams secret|certificate|manifest`: the bot's credential, and the Teams app package to upload."""

from __future__ import annotations

import json
import re
import struct
import sys
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import click

from appliance.cli.teams_certificate_cmd import certificate
from appliance.config import load_settings
from appliance.errors import ApplianceError, ConfigError

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"


@click.group()
def teams() -> None:
    """The chat side: the bot's credential (client secret or certificate) and the Teams app package."""


teams.add_command(certificate)


@teams.command()
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The secret's end date (from `az ad app credential list`): `doctor` warns 30 days before.")
def secret(expires: datetime | None) -> None:
    """Store the bot app registration's client secret (read from stdin, never echoed, sealed in the store).

    Example: `printf %s "$BOT_SECRET" | appliance teams secret`, or type it at the prompt.
    """
    from appliance.store import TenantStore
    from appliance.wiring.dev import BOT_SECRET

    value = sys.stdin.readline().strip() if not sys.stdin.isatty() else click.prompt("client secret", hide_input=True)
    if len(value) < 16:
        raise ApplianceError("that does not look like a client secret (under 16 characters)",
                             hint="Copy the secret's Value (not its ID) from the app registration.")
    from appliance.cli.doctor_checks import BOT_SECRET_EXPIRES
    from appliance.store import key_value_settings

    with TenantStore.open(load_settings()) as store:
        store.put_secret(BOT_SECRET, value)
        if expires is not None:
            store.run(key_value_settings.set_setting, BOT_SECRET_EXPIRES, expires.date().isoformat())
    click.echo("stored the bot's client secret (AES-GCM sealed inside the encrypted store)")


def _png(size: int, rgba: tuple[int, int, int, int]) -> bytes:
    """A solid-colour RGBA PNG (the icons Teams requires), written with zlib alone."""
    row = b"\x00" + bytes(rgba) * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    pixels = zlib.compress(row * size)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@teams.command()
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("aidizen-teams-app.zip"),
              show_default=True, help="The app package to write (never overwritten).")
@click.option("--publisher", default="aidizen", show_default=True, help="Developer name shown in Teams.")
@click.option("--website", default="https://example.invalid", show_default=True, help="Your website URL.")
def manifest(out: Path, publisher: str, website: str) -> None:
    """Write the Teams app package (manifest.json + icons) for the Aid's bot, personal scope only.

    Upload it in the Teams admin center (Manage apps -> Upload); the bot answers only in 1:1 chats.
    """
    settings = load_settings()
    app_id = settings.teams.app_id
    if not GUID.match(app_id):
        raise ConfigError(
            f"[teams] app_id {app_id!r} is not an app registration id (a GUID)",
            hint="Set it to the bot's Entra app registration id; the dev id cannot go to Teams.",
        )
    if out.exists():
        raise ApplianceError(f"{out} already exists", hint="Choose another --out; packages are never overwritten.")
    document = {
        "$schema": MANIFEST_SCHEMA, "manifestVersion": "1.17", "version": "1.0.0", "id": app_id,
        "developer": {"name": publisher, "websiteUrl": website, "privacyUrl": website, "termsOfUseUrl": website},
        "name": {"short": "Aid", "full": "Aid (Microsoft 365 helpdesk)"},
        "description": {
            "short": "Ask the Aid to look up or change Microsoft 365 accounts.",
            "full": "The Aid looks up users, licenses and groups at once, and makes changes only after you "
                    "confirm the exact action. Every change is in your tenant's audit log under the Aid's name.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"}, "accentColor": "#2F5597",
        "bots": [{"botId": app_id, "scopes": ["personal"], "supportsFiles": False, "isNotificationOnly": False}],
        "permissions": ["identity"], "validDomains": [],
    }
    with zipfile.ZipFile(out, "x") as package:
        package.writestr("manifest.json", json.dumps(document, indent=2))
        package.writestr("color.png", _png(192, (47, 85, 151, 255)))
        package.writestr("outline.png", _png(32, (255, 255, 255, 255)))
    click.echo(f"wrote {out}: upload it in the Teams admin center (personal scope, bot {app_id})")
