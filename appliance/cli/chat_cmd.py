"""`appliance chat --dev`: be a Teams user of the dev tenant in the terminal."""

from __future__ import annotations

from typing import Any

import click

from appliance.config import load_settings
from appliance.errors import ConfigError

HELP = """Type a message for the Aid, or:
  /confirm  /cancel   press that button on the newest card
  /as UPN             speak as another dev-tenant user (e.g. /as mike.chan@contoso.com)
  /quit               leave"""


def _render(events: list[dict[str, Any]], who: str) -> dict[str, Any] | None:
    from appliance.wiring.dev_world import card_of, card_text

    newest = None
    for event in events:
        card = card_of(event)
        if card is not None:
            label = "card updated" if event["event"] == "update" else "card"
            click.secho(f"  ┌ {label}", fg="cyan")
            for line in card_text(card):
                click.echo(f"  │ {line}")
            buttons = [a["title"] for a in card.get("actions", [])]
            if buttons:
                click.echo("  │ " + "  ".join(f"[/{b.lower()}]" for b in buttons))
            click.secho("  └", fg="cyan")
            if event["event"] == "message":
                newest = card
        elif event["event"] == "message" and event["activity"].get("text"):
            click.secho(f"Aid → {who}: ", fg="cyan", nl=False)
            click.echo(event["activity"]["text"])
    return newest


@click.command()
@click.option("--dev", is_flag=True, required=True, help="Chat through the dev tenant (the only mode there is).")
@click.option("--as", "upn", default="doug@contoso.com", show_default=True, help="The dev-tenant user you are.")
def chat(dev: bool, upn: str) -> None:
    """Talk to the Aid as a dev-tenant user: your messages go through the dev tenant's Teams emulator to
    `appliance serve --dev`, and its replies and cards come back here.

    Needs `appliance devtenant up` and `appliance serve --dev` running (in other terminals).
    """
    import httpx

    from appliance.wiring.dev_world import DevTeamsClient, button_data

    settings = load_settings()
    if not settings.graph.dev:
        raise ConfigError("this appliance is not configured for the dev tenant", hint="Run `appliance init --dev`.")
    ca = settings.home / "devtenant" / "ca.pem"
    where = f"{settings.devtenant.host}:{settings.devtenant.port}"
    client = DevTeamsClient(f"https://{where}", str(ca))
    try:
        client.conversation_of(upn)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"cannot reach the dev tenant at {where} ({type(exc).__name__})",
            hint="Start `appliance devtenant up` and `appliance serve --dev` in other terminals first.",
        ) from None
    click.echo(HELP)
    card: dict[str, Any] | None = None
    while True:
        try:
            line = click.prompt(click.style(upn, bold=True), prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        line = line.strip()
        if not line:
            continue
        if line == "/quit":
            break
        if line.startswith("/as "):
            upn = line[4:].strip()
            continue
        value = None
        if line in ("/confirm", "/cancel"):
            value = button_data(card, line[1:].title()) if card else None
            if value is None:
                click.echo("there is no card with that button yet")
                continue
        try:
            sent, events = client.ask(upn, None if value else line, value)
        except (httpx.HTTPError, TimeoutError) as exc:
            click.secho(f"no answer: {exc}", fg="red")
            continue
        if sent.status != 202:
            click.secho(f"the Aid's endpoint answered {sent.status}", fg="red")
            continue
        card = _render(events, upn) or card
    client.close()
