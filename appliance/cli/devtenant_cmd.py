"""`appliance devtenant up`: run the embedded dev tenant (Entra + Graph emulators) in the foreground."""

from __future__ import annotations

import time

import click

from appliance.config import load_settings


@click.group()
def devtenant() -> None:
    """The embedded dev tenant for development, the demo and tests (never a real tenant)."""


@devtenant.command()
@click.option("--port", type=int, default=None, help="Port to listen on (default: [devtenant] port, 8443).")
def up(port: int | None) -> None:
    """Serve Entra and Graph emulators over HTTPS until Ctrl-C. State persists under
    $APPLIANCE_HOME/devtenant (seed users, groups and SKUs on first start)."""
    from appliance.wiring.dev_world import DevTenant

    settings = load_settings()
    tenant = DevTenant(settings.home / "devtenant", host=settings.devtenant.host,
                       port=port or settings.devtenant.port).start()
    click.echo(f"dev tenant listening on {tenant.url} (tenant {tenant.context.state.tenant_id})")
    click.echo(f"CA certificate: {tenant.keys.ca_cert}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        tenant.stop()
