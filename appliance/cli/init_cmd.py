"""`appliance init`: create the store key (0600, outside the data dir) and the encrypted, migrated store."""

from __future__ import annotations

import click

from appliance.config import Settings, load_settings
from appliance.store.setup import initialize_store


def configure_dev(settings: Settings) -> list[str]:
    """Point the configuration at the dev tenant, sign the Aid in there and register the bot."""
    from appliance.wiring.dev import prepare_dev

    steps: list[str] = []
    try:
        steps += prepare_dev(settings, lambda message: steps.append(f"sign-in: {message}"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return steps


@click.command()
@click.option("--dev", is_flag=True, help="Also configure the embedded dev tenant and sign the Aid in to it.")
def init(dev: bool) -> None:
    """Set up this appliance's state: the store key and the encrypted store under $APPLIANCE_HOME.

    With --dev, also point Entra, Graph and Teams at the embedded dev tenant, sign the Aid in there and
    register the bot, so that `appliance serve --dev` needs nothing else. Safe to run again.
    """
    settings = load_settings()
    steps = initialize_store(settings)
    if dev:
        steps += configure_dev(settings)
    for step in steps:
        click.echo(step)
