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
    asyncio.run(_serve(settings))


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
