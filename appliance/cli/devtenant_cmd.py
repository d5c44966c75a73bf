"""`appliance devtenant up`: run the embedded dev tenant (Entra + Graph emulators) in the foreground."""

from __future__ import annotations

import time

import click

from appliance.config import load_settings
from appliance.errors import ConfigError


@click.group()
def devtenant() -> None:
    """The embedded dev tenant for development, the demo and tests (never a real tenant)."""


@devtenant.command()
@click.option("--port", type=int, default=None, help="Port to listen on (default: [devtenant] port, 8443).")
def up(port: int | None) -> None:
    """Serve Entra and Graph emulators over HTTPS until Ctrl-C. State persists under
    $APPLIANCE_HOME/devtenant (seed users, groups and SKUs on first start)."""
    from appliance.wiring.dev_address import remove_address, write_address
    from appliance.wiring.dev_world import DevTenant

    settings = load_settings()
    chosen = port or settings.devtenant.port
    try:
        tenant = DevTenant(settings.home / "devtenant", host=settings.devtenant.host, port=chosen).start()
    except OSError as exc:
        raise ConfigError(f"the dev tenant cannot listen on {settings.devtenant.host}:{chosen} ({exc.strerror})",
                          hint="Another process (another stack?) uses that port: pick one with --port P; "
                          "`appliance serve --dev` finds it.") from None
    recorded = write_address(settings.home, tenant.host, tenant.port, tenant.context.state.tenant_id)
    click.echo(f"dev tenant listening on {tenant.url} (tenant {tenant.context.state.tenant_id})")
    click.echo(f"CA certificate: {tenant.keys.ca_cert}; address for `serve --dev`: {recorded}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        tenant.stop()
    finally:
        remove_address(settings.home)
