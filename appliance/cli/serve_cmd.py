"""`appliance serve`: run the Aid (Teams endpoint, model, Graph, store) until stopped."""

from __future__ import annotations

import asyncio
import signal

import click

from appliance.config import Settings, load_settings
from appliance.errors import ConfigError


@click.command()
@click.option("--dev", is_flag=True, help="Run against the dev tenant (`appliance devtenant up` must be running).")
@click.option("--port", type=int, default=None, help="Listen on this port (default: [teams] port, 3978).")
def serve(dev: bool, port: int | None) -> None:
    """Serve /api/messages for Teams, plus /healthz and /readyz, until SIGTERM or Ctrl-C. With `[mcp] enabled =
    true`, also /mcp for MCP orchestrators on [mcp] port (same process, store and gate; docs/MCP.md).

    Start-up verifies the model's hash, opens the encrypted store, checks the Aid's token and its scopes
    (tools whose scopes are missing are disabled and named), and finishes or settles any action a crash
    interrupted. Progress goes to stderr; the operational log (no personal data) to
    $APPLIANCE_HOME/logs/ops.jsonl.
    """
    settings = load_settings()
    if dev and not settings.graph.dev:
        raise ConfigError("--dev needs a dev configuration", hint="Run `appliance init --dev` first.")
    if not dev and settings.graph.dev:
        raise ConfigError("appliance.toml points at the dev tenant ([graph] dev = true)",
                          hint="Run `appliance serve --dev`, or configure your real tenant.")
    if port is not None:
        settings = settings.model_copy(update={"teams": settings.teams.model_copy(update={"port": port})})
    if dev:
        settings = _find_dev_tenant(settings, moved=port is not None)
    asyncio.run(_serve(settings))


def _find_dev_tenant(settings: Settings, *, moved: bool) -> Settings:
    """The dev tenant `devtenant up` runs for this home (checked: it answers and is this home's tenant);
    with --port, its Teams is pointed at the new port."""
    from appliance.store import TenantStore
    from appliance.wiring.dev import BOT_SECRET
    from appliance.wiring.dev_address import check_dev_tenant, reregister_bot_endpoint, with_running_dev_tenant

    settings = with_running_dev_tenant(settings)
    click.echo(check_dev_tenant(settings), err=True)
    if moved:
        with TenantStore.open(settings) as store:
            secret = store.get_secret(BOT_SECRET)
        if secret:
            click.echo(f"dev tenant: Teams now posts to {reregister_bot_endpoint(settings, secret)}", err=True)
    return settings


async def _serve(settings: Settings) -> None:
    from appliance.wiring.service import install_egress_guard, start_service

    allowed = install_egress_guard(settings)
    click.echo(f"egress: socket guard installed; {allowed} destinations reachable (`appliance doctor` lists them)",
               err=True)
    service = await start_service(settings, lambda message: click.echo(message, err=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    click.echo(f"ready: {service.url}", err=True)
    await stop.wait()
    click.echo("stopping: waiting for running turns (up to 10 s)", err=True)
    await service.stop()
