"""`appliance audit query|verify|export|join`: the appliance's own audit records, for reviewers."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from appliance.audit.closures import m365_entry_shown
from appliance.config import load_settings
from appliance.errors import ApplianceError


def _records(days: int, tool: str | None, requested_by: str | None) -> list[dict[str, Any]]:
    from appliance.store import TenantStore, audit_records

    since = datetime.now(UTC) - timedelta(days=days)
    with TenantStore.open(load_settings()) as store:
        return store.run(lambda db: audit_records.query(db, since=since, requested_by=requested_by, tool=tool,
                                                         limit=1_000_000))


@click.group()
def audit() -> None:
    """Read, verify and export the hash-chained audit records (who asked, who confirmed, what ran).

    Each record joins to the tenant's M365 audit log: ClientRequestId is the directory audit's
    correlationId and AuditEntryId its id (filled in once Graph has written it).
    """


@audit.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650), help="How far back.")
@click.option("--tool", default=None, help="Only this tool (e.g. m365_license_assign).")
@click.option("--requested-by", default=None, metavar="UPN", help="Only what this person asked for.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def query(days: int, tool: str | None, requested_by: str | None, as_json: bool) -> None:
    """Show the records of the last DAYS days, oldest first."""
    records = _records(days, tool, requested_by)
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
        return
    if not records:
        click.echo(f"no audit records in the last {days} day(s)")
        return
    for record in records:
        what = record.get("ActionSummary") or record.get("Detail")
        click.echo(f"{record.get('ExecutedAt')}  {record.get('Outcome'):8} {record.get('ToolName'):26} "
                   f"{what}  | asked by {record.get('RequestedBy')}, confirmed "
                   f"{record.get('ConfirmedAt') or '-'} | M365 {m365_entry_shown(record)}")
    click.echo(f"{len(records)} record(s)")


@audit.command()
def verify() -> None:
    """Walk the hash chain from its anchor; name the first broken record. Exit 1 if the chain is broken.

    Then list the open Unknowns (writes whose outcome no directory audit entry has settled yet) and the
    messages Teams would not take (a person who was never told an outcome)."""
    from appliance.store import TenantStore, audit_records, undelivered

    with TenantStore.open(load_settings()) as store:
        report = store.run(audit_records.verify)
        unknowns = store.run(audit_records.open_unknowns)
        unsent = store.run(undelivered.still_undelivered)
    if not report.ok:
        click.secho(report.describe(), fg="red")
        click.echo("what to do: treat the store as tampered with; compare with your exports and the M365 audit log.")
        sys.exit(1)
    click.echo(report.describe())
    click.echo(f"open Unknown outcomes: {len(unknowns)}")
    for record in unknowns:
        click.echo(f"  {record.get('ExecutedAt')}  {record.get('ToolName')}  {record.get('ActionSummary')}  "
                   f"| ClientRequestId {record.get('ClientRequestId')} "
                   f"| asked by {record.get('RequestedBy')}")
    if unknowns:
        click.echo("what to do: look the ClientRequestId up in the Entra audit log (Audit logs > filter by "
                   "correlation ID, or by activity and target); the appliance settles each one when the entry appears.")
    click.echo(f"undelivered messages: {len(unsent)}")
    for message in unsent:
        click.echo(f"  {message['created_at']}  {message['attempts']} tries, last: {message['reason']}  "
                   f"| {str(message['text'])[:100]}")


@audit.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to create.")
@click.option("--days", default=3650, show_default=True, type=click.IntRange(1, 36500), help="How far back.")
def export(fmt: str, out: Path, days: int) -> None:
    """Write the records to a new file (mode 0600; an existing file is never overwritten)."""
    from appliance.audit import write_csv, write_jsonl

    records = _records(days, None, None)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ApplianceError(f"{out} already exists", hint="Choose a new file name; exports never overwrite.") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        written = (write_csv if fmt == "csv" else write_jsonl)(records, handle)
    from appliance.store import TenantStore
    from appliance.store.operator_log import record_operation

    with TenantStore.open(load_settings()) as store:
        store.run(record_operation, "audit.export", f"exported audit records to {out.resolve()}",
                  {"records": written, "format": fmt})
    click.echo(f"wrote {written} record(s) to {out}")


@audit.command()
def join() -> None:
    """Fill AuditEntryId now from Graph's directory audits (serve does this on its own every few seconds)."""
    import asyncio

    from appliance.audit import join_audit_entries
    from appliance.graph.connect import connect
    from appliance.graph.directory import GraphDirectory
    from appliance.store import TenantStore
    from appliance.store.ledger import StoreLedger
    from appliance.wiring.components import graph_endpoints, graph_permissions

    settings = load_settings()
    with TenantStore.open(settings) as store:
        identity, gateway = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
        directory = GraphDirectory(gateway, aid_object_id=str(identity.claims().get("oid") or "") or None)
        joined = asyncio.run(join_audit_entries(StoreLedger(store), directory, limit=10_000))
    click.echo(f"joined {joined} record(s) to their M365 directory audit entries")
