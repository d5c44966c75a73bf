"""Online backup, verification and restore of the encrypted store.

`backup` runs while `appliance serve` is writing: it opens its own read connection (WAL: readers never
block the writer, nor the writer them) and copies every page with SQLite's online backup API
(`Connection.backup`, in one step, so the copy is one consistent snapshot of a committed state) into a
new SQLCipher file under the same key. Given a different key, the copy is then re-encrypted
(`PRAGMA rekey`) and its sealed secrets re-sealed, so the backup opens only with that key. The copy is
written as `<dest>.partial` and renamed when complete and verified: a crash never leaves a file under
the final name that is not a whole backup.

`verify_backup` opens a backup with its key, runs SQLCipher's page HMAC check and SQLite's integrity
check, and walks the audit hash chain. `restore` verifies first, copies into `<store>.restoring`,
re-encrypts under the target store key, keeps any store it replaces as `<store>.before-restore-<time>`
(never deleted), and moves the copy into place.

RPO/RTO: see docs/OPERATIONS.md (an RPO of one backup interval; an RTO of a restore plus a start).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.store import audit_records, secrets
from appliance.store.audit_chain import ChainReport
from appliance.store.connection import DATABASE_ERRORS, Connection, checkpoint, open_encrypted, rekey, transaction
from appliance.store.durable_files import fsync_directory, fsync_file
from appliance.store.errors import StoreError
from appliance.store.migrations import current_version
from appliance.store.shred import SIDE_FILES


class BackupError(StoreError):
    """A backup or restore could not be made or does not verify."""

    hint = "Nothing was changed in the live store. Fix the cause named above and run the command again."


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds (never contents): schema version, rows, the audit chain, seconds taken."""

    path: Path
    schema_version: int
    audit_records: int
    chain: ChainReport
    integrity: str
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """The file's pages authenticate, its structure is intact and its audit chain verifies."""
        return self.integrity == "ok" and self.chain.ok

    def describe(self) -> str:
        """One line for an operator."""
        return (f"{self.path}: schema {self.schema_version}, {self.audit_records} audit records, pages "
                f"{self.integrity}; {self.chain.describe()}")


def backup(source: Path, key: bytes, key_source: str, dest: Path, *, dest_key: bytes | None = None,
           dest_key_source: str = "backup key") -> BackupReport:
    """Copy the live store at `source` (opened with `key`) into the new file `dest`, under `dest_key`
    (default: the same key). Safe while another process writes the store. Returns the verified copy's report."""
    started = time.perf_counter()
    _check_new_file(dest)
    partial = dest.with_name(dest.name + ".partial")
    _remove_files(partial)
    live = open_encrypted(source, key, key_source)
    try:
        _copy(live, partial, key)
    finally:
        live.close()
    final_key = dest_key or key
    if dest_key is not None and dest_key != key:
        _rekey_file(partial, key, dest_key)
    report = verify_backup(partial, final_key, dest_key_source if dest_key else key_source)
    if not report.ok:
        _remove_files(partial)
        raise BackupError(f"the backup copy did not verify: {report.describe()}")
    os.replace(partial, dest)
    fsync_directory(dest.parent)
    return BackupReport(dest, report.schema_version, report.audit_records, report.chain, report.integrity,
                        time.perf_counter() - started)


def verify_backup(path: Path, key: bytes, key_source: str) -> BackupReport:
    """Open `path` with `key`; check every page's HMAC, the database structure and the audit chain."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file", hint="Give the path of a backup made by `appliance backup`.")
    db = open_encrypted(path, key, key_source)
    try:
        failures = [str(row[0]) for row in db.execute("PRAGMA cipher_integrity_check").fetchall()]
        structure = str(db.execute("PRAGMA integrity_check").fetchone()[0])
        if failures or structure != "ok":
            unread = ChainReport(False, 0, None, "not checked: the file is damaged")
            return BackupReport(path, 0, 0, unread, "; ".join([*failures, structure])[:300])
        return BackupReport(path, current_version(db), audit_records.count(db), audit_records.verify(db), "ok")
    except DATABASE_ERRORS as exc:
        return BackupReport(path, 0, 0, ChainReport(False, 0, None, "not checked"), f"unreadable: {exc}"[:300])
    finally:
        db.close()


def restore(backup_path: Path, backup_key: bytes, backup_key_source: str, store_path: Path, store_key: bytes,
            *, replace: bool = False) -> tuple[BackupReport, Path | None]:
    """Verify the backup, then make it the store at `store_path` under `store_key`. Returns the backup's
    report and where the replaced store was kept (None if there was none). Stop `serve` first."""
    report = verify_backup(backup_path, backup_key, backup_key_source)
    if not report.ok:
        raise BackupError(f"refusing to restore a backup that does not verify: {report.describe()}",
                          hint="Use another backup; this one is damaged or was tampered with.")
    if store_path.exists() and not replace:
        raise BackupError(f"a store already exists at {store_path}",
                          hint="Pass --replace to keep it aside (as .before-restore-<time>) and restore over it.")
    restoring = store_path.with_name(store_path.name + ".restoring")
    _remove_files(restoring)
    store_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    source = open_encrypted(backup_path, backup_key, backup_key_source)
    try:
        _copy(source, restoring, backup_key)
    finally:
        source.close()
    if store_key != backup_key:
        _rekey_file(restoring, backup_key, store_key)
    kept = None
    if store_path.exists():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = store_path.with_name(f"{store_path.name}.before-restore-{stamp}")
        for suffix in SIDE_FILES:
            old = Path(f"{store_path}{suffix}")
            if old.exists():
                os.replace(old, Path(f"{kept}{suffix}"))
    os.replace(restoring, store_path)
    fsync_directory(store_path.parent)
    return report, kept


def _copy(source: Connection, dest: Path, key: bytes) -> None:
    """SQLite's online backup of `source` into the new SQLCipher file `dest` (same key), all pages in one
    step (one read snapshot), then a checkpoint so that the copy is one self-contained file."""
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    target = open_encrypted(dest, key, "backup copy")
    try:
        source.backup(target, pages=-1)  # type: ignore[attr-defined]
        checkpoint(target)
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
    fsync_file(dest)


def _rekey_file(path: Path, old_key: bytes, new_key: bytes) -> None:
    """Re-seal the copy's secrets under `new_key`'s box, then re-encrypt every page under `new_key`."""
    db = open_encrypted(path, old_key, "backup copy")
    try:
        old_box, new_box = secrets.SecretBox(old_key), secrets.SecretBox(new_key)
        with transaction(db):
            secrets.reseal_all(db, {old_box.key_id: old_box}, new_box)
        rekey(db, new_key)
        checkpoint(db)
        db.execute("PRAGMA journal_mode = DELETE")
    finally:
        db.close()
    fsync_file(path)


def _check_new_file(dest: Path) -> None:
    if dest.exists():
        raise BackupError(f"{dest} already exists", hint="Backups never overwrite: give a new file name.")
    if not dest.parent.is_dir():
        raise BackupError(f"the directory {dest.parent} does not exist", hint="Create it (mode 0700) first.")


def _remove_files(path: Path) -> None:
    for suffix in SIDE_FILES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)
