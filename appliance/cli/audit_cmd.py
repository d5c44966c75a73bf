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
    correlationId and AuditEntryId its id (filled in once Graph has written it); AuditEntryMatchedBy
    says how that entry was found: correlationId, or the weaker activity fallback.
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
@click.option("--checkpoint", "checkpoint_files", multiple=True, metavar="FILE",
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A checkpoint file you kept (`appliance audit checkpoint`); may be given more than once.")
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="The anchor key's public key (PEM) to trust; default: the anchor key beside the store key.")
def verify(checkpoint_files: tuple[Path, ...], public_key: Path | None) -> None:
    """Walk the hash chain from its anchor, then compare its head with the newest signed checkpoint (ops
    log and --checkpoint files): name the first broken record, a deleted newest record, or a rebuilt
    chain. Exit 1 if any of them is found. Then list the open Unknown outcomes and undelivered messages."""
    from appliance.audit.receipt import load_public_key
    from appliance.store import TenantStore, audit_records, undelivered
    from appliance.store.anchor_key import anchor_public_key
    from appliance.store.audit_anchor import checkpoints_in_log, read_checkpoint_file, verify_anchored

    settings = load_settings()
    trusted = load_public_key(public_key.read_bytes()) if public_key else anchor_public_key(settings)
    candidates = checkpoints_in_log(settings.home / "logs")
    for path in checkpoint_files:
        candidates += read_checkpoint_file(path)
    if trusted is None:
        raise ApplianceError("there is no audit anchor key, so no checkpoint can be checked",
                             hint="Pass the anchor's public key with --public-key, or run `appliance init` to make "
                             "the key (then `appliance serve` writes checkpoints).")
    with TenantStore.open(settings) as store:
        chain, anchor, rejected = store.run(lambda db: verify_anchored(db, candidates, trusted))
        unknowns = store.run(audit_records.open_unknowns)
        unsent = store.run(undelivered.still_undelivered)
    click.secho(chain.describe(), fg=None if chain.ok else "red")
    click.secho(anchor.describe(), fg=None if anchor.ok else "red")
    if rejected:
        click.secho(f"{rejected} checkpoint(s) ignored: malformed or not signed by the trusted anchor key",
                    fg="yellow")
    if not (chain.ok and anchor.ok):
        click.echo("what to do: treat the store as tampered with; compare with your exports, your kept checkpoints "
                   "and the M365 audit log.")
        sys.exit(1)
    _list_open_outcomes(unknowns, unsent)


def _list_open_outcomes(unknowns: list[dict[str, Any]], unsent: list[dict[str, Any]]) -> None:
    """The open Unknowns (writes whose outcome no directory audit entry has settled yet) and the messages
    Teams would not take (a person who was never told an outcome)."""
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
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to create.")
def checkpoint(out: Path) -> None:
    """Sign the chain's head (record count and Hash, now) with the anchor key and write it to a new file
    for an auditor to keep; `appliance audit verify --checkpoint FILE` checks the chain against it later."""
    from appliance.audit.receipt import fingerprint
    from appliance.store import TenantStore
    from appliance.store.anchor_key import anchor_key_path, load_anchor_key
    from appliance.store.audit_anchor import signed_head, write_checkpoint_file

    settings = load_settings()
    key = load_anchor_key(anchor_key_path(settings))
    with TenantStore.open(settings) as store:
        signed = store.run(signed_head, key, datetime.now(UTC))
    write_checkpoint_file(out, signed)
    click.echo(f"wrote the checkpoint of record {signed.count} ({signed.head[:12]}, {signed.time}) to {out}")
    click.echo(f"signed by the anchor key {fingerprint(key.public_key())}; keep the file, and that fingerprint, "
               "outside the appliance")


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
