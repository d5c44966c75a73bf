"""`appliance backup DEST | backup verify PATH` and `appliance restore PATH`: online backups of the store."""

from __future__ import annotations

from pathlib import Path

import click

from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError

KEY_FILE_HELP = (
    "The backup's own key: a hex key file (64 hex digits, mode 0600). For `backup` it is created (a new random "
    "key; the file must not exist); for `verify` and `restore` it is read. Default: the store's own key."
)


def _store_key(settings: Settings) -> tuple[bytes, str]:
    from appliance.store import key_provider_for

    keys = key_provider_for(settings)
    return keys.load(), keys.describe()


def _read_key_file(path: Path, settings: Settings) -> bytes:
    """A backup's key file: 0600, owned by this user, outside $APPLIANCE_HOME (checked like the store key)."""
    from appliance.store.tenant_store import key_file_at

    return key_file_at(path, settings).load()


class _BackupGroup(click.Group):
    """`backup DEST [--key-file F]` makes a backup; `backup verify PATH` checks one (DEST is not a subcommand)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_BackupGroup)
def backup() -> None:
    """Back up the encrypted store while `serve` runs: `appliance backup DEST [--key-file F]`;
    check a backup: `appliance backup verify PATH [--key-file F]`; bring one back: `appliance restore`."""


@backup.command(hidden=True)
@click.argument("dest", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False), default=None, help=KEY_FILE_HELP)
def create(dest: Path, key_file: Path | None) -> None:
    """Copy the encrypted store to DEST while `serve` keeps running (SQLite's online backup API).

    The copy is one consistent snapshot, encrypted (SQLCipher) under the store key or, with --key-file, a
    new key written to that file; it is verified (page HMACs, structure, audit chain) before it gets its
    final name, and the backup leaves an operator record on the audit chain.
    """
    from appliance.store import TenantStore, database_path
    from appliance.store.backup import backup as backup_store
    from appliance.store.operator_log import record_operation
    from appliance.store.tenant_store import key_file_at

    settings = load_settings()
    key, source = _store_key(settings)
    dest_key = key_file_at(key_file, settings).create() if key_file is not None else None
    report = backup_store(database_path(settings), key, source, dest, dest_key=dest_key,
                          dest_key_source=f"key file {key_file}")
    with TenantStore.open(settings) as store:
        store.run(record_operation, "backup", f"online backup to {dest.resolve()}",
                  {"audit_records": report.audit_records, "schema_version": report.schema_version,
                   "key": "own key file" if key_file else "the store key"})
    click.echo(f"backup written: {report.describe()} ({report.seconds:.2f} s)")
    click.echo(f"it opens with the {'key in ' + str(key_file) if key_file else source}: keep that key apart from it")


@backup.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help=KEY_FILE_HELP)
def verify(path: Path, key_file: Path | None) -> None:
    """Open a backup with its key and check it: page HMACs, structure, audit chain. Exit 1 if it fails."""
    from appliance.store.backup import verify_backup

    settings = load_settings()
    if key_file is not None:
        key, source = _read_key_file(key_file, settings), f"key file {key_file}"
    else:
        key, source = _store_key(settings)
    report = verify_backup(path, key, source)
    if not report.ok:
        click.secho(f"FAILED: {report.describe()}", fg="red")
        raise SystemExit(1)
    click.echo(f"ok: {report.describe()}")


@click.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help=KEY_FILE_HELP)
@click.option("--replace", is_flag=True,
              help="Keep the existing store aside (.before-restore-<time>) and restore over it.")
def restore(path: Path, key_file: Path | None, replace: bool) -> None:
    """Restore the store from a backup (verified first). Stop `serve` first; start it again afterwards.

    The restored store is re-encrypted under the configured store key (a new key file is created on a
    fresh machine); a store it replaces is kept, never deleted.
    """
    from appliance.store import TenantStore, database_path, key_provider_for
    from appliance.store.backup import restore as restore_store
    from appliance.store.operator_log import record_operation
    from appliance.store.serve_lock import refuse_while_serving

    settings = load_settings()
    refuse_while_serving(settings.home, "restore")
    keys = key_provider_for(settings)
    try:
        store_key = keys.load()
    except ApplianceError:
        if database_path(settings).exists():
            raise
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        store_key = keys.create()  # a fresh machine: the restored store gets a new key of its own
        click.echo(f"created {keys.describe()} for the restored store")
    backup_key, source = store_key, keys.describe()
    if key_file is not None:
        backup_key, source = _read_key_file(key_file, settings), f"key file {key_file}"
    report, kept = restore_store(path, backup_key, source, database_path(settings), store_key, replace=replace)
    with TenantStore.open(settings) as store:
        store.run(record_operation, "restore", f"restored from {path.resolve()}",
                  {"audit_records": report.audit_records, "replaced_store_kept_as": str(kept) if kept else None})
    if kept:
        click.echo(f"the previous store is kept as {kept} (delete it when you no longer need it)")
    click.echo(f"restored: {report.describe()}")
    click.echo("start `appliance serve` again; `appliance doctor` checks the Aid's sign-in")

