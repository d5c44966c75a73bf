"""`appliance catalog [--json]`: the enabled tools."""

from __future__ import annotations

import json

import click

from appliance.config import load_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array with every field.")
def catalog(as_json: bool) -> None:
    """List the enabled tools: name, description, arguments schema, Graph operation, permission,
    admin role, and whether it changes state (and so needs a confirmation)."""
    from appliance.catalog import DEFAULT_CATALOG, describe

    settings = load_settings()
    enabled = DEFAULT_CATALOG.without(settings.catalog.disabled_tools)
    rows = [describe(spec) for spec in enabled.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        kind = "CHANGES STATE (confirm)" if row["changes_state"] else "read-only"
        click.secho(f"{row['name']}  [{kind}]", bold=True)
        click.echo(f"  {row['description']}")
        click.echo(f"  args: {', '.join(row['arguments'].get('properties', {})) or '(none)'}")
        click.echo(f"  graph: {row['graph_operation']}")
        click.echo(f"  permission: {row['permission'] or '-'}   role: {row['admin_role'] or '-'}")
