"""`appliance export DIR`: the tenant's conversations and audit records as JSON Lines."""

from __future__ import annotations

from pathlib import Path

import click

from appliance.config import load_settings


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export(directory: Path) -> None:
    """Write conversations.jsonl and audit.jsonl into DIRECTORY (created if needed; files mode 0600).

    The files are plaintext: they are the customer's own copy, to keep wherever their policy says.
    Existing export files are never overwritten.
    """
    from appliance.store import TenantStore
    from appliance.store.export import export_jsonl
    from appliance.store.operator_log import record_operation

    with TenantStore.open(load_settings()) as tenant_store:
        counts = tenant_store.run(export_jsonl, directory)
        tenant_store.run(record_operation, "export", f"exported to {directory.resolve()}", dict(counts))
    for name, count in counts.items():
        click.echo(f"wrote {directory / name} ({count} rows)")
