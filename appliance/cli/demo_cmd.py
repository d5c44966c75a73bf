"""`appliance demo`: what `make demo` runs. The main job, for real, on this machine.

It starts the embedded dev tenant (Entra, Graph, Bot Framework and Teams emulators over HTTPS) and
`appliance serve --dev` as its own process (real model, SQLCipher store, botbuilder, msal, msgraph-sdk),
then plays a Teams conversation: a lookup, a license assignment shown as a card, someone else trying to
confirm it (refused), the requester confirming it, the outcome, an audit query. It prints the transcript,
the appliance's audit record and the M365 directory audit entry it joins to.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.panel import Panel

from appliance.config import load_settings

DOUG, MIKE = "doug@contoso.com", "mike.chan@contoso.com"
JOIN_WAIT_SECONDS = 60.0
"""How long the demo waits for the directory audit entry to be joined (the dev tenant's delay is seconds)."""


def _show(console: Console, who: str, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Print the Aid's messages and cards; return the last card sent."""
    from appliance.wiring.dev_world import card_of, card_text

    card = None
    for event in events:
        if event["event"] == "typing":
            continue
        shown = card_of(event)
        if shown is not None:
            title = "card updated" if event["event"] == "update" else "card"
            console.print(Panel("\n".join(card_text(shown)) + _buttons(shown), title=f"Aid → {who} ({title})",
                                border_style="cyan", expand=False))
            card = shown if event["event"] == "message" else card
        elif event["activity"].get("text"):
            console.print(f"[cyan]Aid → {who}:[/] {event['activity']['text']}")
    return card


def _buttons(card: dict[str, Any]) -> str:
    titles = [action["title"] for action in card.get("actions", [])]
    return ("\n[ " + " ] [ ".join(titles) + " ]") if titles else ""


def _person(console: Console, who: str, text: str) -> None:
    console.print(f"\n[bold]{who}:[/] {text}")


@click.command()
@click.option("--keep", is_flag=True, help="Leave the demo's dev tenant and store in place afterwards.")
def demo(keep: bool) -> None:
    """Play the main job end to end against the dev tenant over real HTTPS (takes about a minute).

    Everything runs under $APPLIANCE_HOME/demo (made fresh each time); the model comes from
    $APPLIANCE_HOME/models (`appliance models fetch`). Exit 1 if the appliance did not answer.
    """
    from appliance.wiring.dev_world import DevStack, button_data

    console = Console()
    settings = load_settings()
    home = settings.home / "demo" / "home"
    shutil.rmtree(home.parent, ignore_errors=True)
    stack = DevStack(home, models_dir=settings.models_dir)
    try:
        with console.status("starting the dev tenant and signing the Aid in"):
            stack.prepare()
        with console.status("starting `appliance serve --dev` (model load + prefix, about 20-30 s)"):
            stack.start_appliance()
        console.print(f"[green]ready[/]: the Aid listens on {stack.bot_url}; dev tenant at {stack.tenant.url}"  # type: ignore[union-attr]
                      f"\nappliance log: {stack.log_path}")
        teams = stack.client
        assert teams is not None

        def turn(who: str, text: str | None = None, value: dict[str, Any] | None = None) -> dict[str, Any] | None:
            _person(console, who, text if text is not None else "(presses Confirm on Doug's card)")
            with console.status("the Aid is working"):
                _, events = teams.ask(who, text, value)
            return _show(console, who, events)

        turn(DOUG, "Who is sarah.lin@contoso.com?")
        card = turn(DOUG, "Give sarah.lin@contoso.com an E3 license")
        confirm = button_data(card, "Confirm") if card else None
        if confirm is None:
            raise click.ClickException("the Aid did not propose the license assignment (see the transcript above)")
        turn(MIKE, value=confirm)
        _person(console, DOUG, "(presses Confirm)")
        with console.status("the Aid is working"):
            _, events = teams.ask(DOUG, value=confirm)
        _show(console, DOUG, events)
        _wait_for_join(console, stack)
        turn(DOUG, "What did the Aid change today?")
        _print_join(console, stack)
    finally:
        stack.close()
        if not keep:
            shutil.rmtree(home.parent, ignore_errors=True)


def _newest_executed(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest audit record of an action that reached Graph (it carries a ClientRequestId), or None."""
    return next((r for r in reversed(records) if r.get("ClientRequestId")), None)


def _executed_record(stack: Any) -> dict[str, Any] | None:
    """`_newest_executed` of the stack's store, read now."""
    from appliance.store import TenantStore, audit_records

    with TenantStore.open(load_settings(Path(stack.home))) as store:
        return _newest_executed(store.run(audit_records.records))


def _wait_for_join(console: Console, stack: Any, *, timeout: float = JOIN_WAIT_SECONDS) -> None:
    """Wait until `serve`'s upkeep has joined the executed action's record to its M365 directory audit entry.

    Microsoft writes directory audit entries late (95% within 2 minutes); the dev tenant delays them a few
    seconds, and serve looks for them every `[gate] upkeep_seconds`. Says so either way; never fails the demo.
    """
    started = time.monotonic()
    with console.status("waiting for the M365 directory audit entry (Microsoft writes it late; serve joins it)"):
        record = _executed_record(stack)
        while record is not None and not record.get("AuditEntryId") and time.monotonic() - started < timeout:
            time.sleep(1.0)
            record = _executed_record(stack)
    if record is not None and record.get("AuditEntryId"):
        console.print(f"[dim]the M365 directory audit entry was joined after {time.monotonic() - started:.0f} s[/]")
    elif record is not None:
        console.print(f"[yellow]no M365 directory audit entry joined after {timeout:.0f} s[/] (a real tenant can "
                      "take minutes; `appliance audit join` retries it)")


def _print_join(console: Console, stack: Any) -> None:
    """The appliance's audit record next to the M365 directory audit entry it joins to."""
    from appliance.store import TenantStore, audit_records

    with TenantStore.open(load_settings(Path(stack.home))) as store:
        records = store.run(audit_records.records)
        chain = store.run(audit_records.verify)
    if not records:
        console.print("[yellow]no audit record was written[/]")
        return
    record = _newest_executed(records) or records[-1]  # the executed action
    entries = [a for a in stack.tenant.context.state.data["directoryAudits"]
               if a["correlationId"] == record.get("ClientRequestId")]
    console.print(Panel(json.dumps(record, indent=1, ensure_ascii=False), title="appliance audit record (SQLCipher)",
                        expand=False))
    if entries:
        console.print(Panel(json.dumps(entries[0], indent=1, ensure_ascii=False),
                            title="M365 directory audit entry (dev tenant), joined by correlationId", expand=False))
    joined = bool(entries) and record.get("AuditEntryId") == entries[0]["id"]
    console.print(f"{chain.describe()}; AuditEntryId is the directory audit's id: {joined}")
