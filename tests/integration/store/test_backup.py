"""Online backup of a real SQLCipher store while another process writes it, verified and restored
(same key and a new key); a damaged backup is refused; the backup's operator record is on the chain."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.config import Settings, load_settings
from appliance.store import TenantStore, audit_records
from appliance.store.backup import BackupError, backup, restore, verify_backup
from appliance.store.errors import StoreKeyError
from appliance.store.keys import FileKeyProvider
from appliance.store.tenant_store import database_path
from tests.conftest import REPO_ROOT

WRITER = Path(__file__).with_name("backup_writer.py")


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.05)


def test_backups_taken_under_concurrent_writes_verify_and_restore(
    settings: Settings, key_file: Path, store: TenantStore, tmp_path: Path
) -> None:
    store.put_secret("teams.app_secret", "s3cret-value")
    for n in range(50):
        store.run(audit_records.append_record, {"ToolName": "m365_user_get", "Outcome": "Success", "Detail": f"{n}"})
    store.close()
    key = FileKeyProvider(key_file, settings.home).load()
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    writer = subprocess.Popen([sys.executable, str(WRITER), str(settings.home), str(ready), str(stop)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        _wait_for(ready)  # the writer has committed its first records and keeps writing
        same = backup(database_path(settings), key, "store key", tmp_path / "same.db")
        new_key = os.urandom(32)
        rekeyed = backup(database_path(settings), key, "store key", tmp_path / "new.db", dest_key=new_key)
    finally:
        stop.write_text("stop", encoding="utf-8")
        out, _ = writer.communicate(timeout=60)
    written = int(out.strip())
    assert writer.returncode == 0 and written >= 20
    assert same.ok and rekeyed.ok, (same.describe(), rekeyed.describe())
    assert 50 <= same.audit_records <= 50 + written and 50 <= rekeyed.audit_records <= 50 + written
    assert same.audit_records > 50 or rekeyed.audit_records > 50  # the copies saw the writer's commits

    with pytest.raises(StoreKeyError):
        verify_backup(tmp_path / "new.db", key, "old store key")  # the new-key backup does not open with the old key
    assert verify_backup(tmp_path / "new.db", new_key, "new key").chain.ok

    target = tmp_path / "restored" / "appliance.db"
    target_key = os.urandom(32)
    report, kept = restore(tmp_path / "new.db", new_key, "new key", target, target_key)
    assert report.ok and kept is None
    restored = TenantStore(target, _StaticKeys(target_key))
    try:
        assert restored.get_secret("teams.app_secret") == "s3cret-value"  # re-sealed under the restored key
        assert restored.run(audit_records.count) == rekeyed.audit_records and restored.run(audit_records.verify).ok
    finally:
        restored.close()


def test_a_damaged_backup_is_refused_and_nothing_is_overwritten(
    settings: Settings, key_file: Path, store: TenantStore, tmp_path: Path
) -> None:
    for n in range(200):
        store.run(audit_records.append_record, {"ToolName": "m365_user_get", "Outcome": "Success", "Detail": f"{n}"})
    key = FileKeyProvider(key_file, settings.home).load()
    copy = tmp_path / "copy.db"
    backup(database_path(settings), key, "store key", copy)
    with pytest.raises(BackupError, match="already exists"):
        backup(database_path(settings), key, "store key", copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in a page
    copy.write_bytes(bytes(data))
    assert not verify_backup(copy, key, "store key").ok
    with pytest.raises(BackupError, match="does not verify"):
        restore(copy, key, "store key", database_path(settings), key, replace=True)
    assert store.run(audit_records.count) == 200  # the live store is untouched


def test_the_cli_backs_up_verifies_restores_and_records_it(settings: Settings, key_file: Path,
                                                         store: TenantStore, tmp_path: Path) -> None:
    store.run(audit_records.append_record, {"ToolName": "m365_user_get", "Outcome": "Success"})
    store.close()
    runner = CliRunner()
    dest, backup_key = tmp_path / "nightly.db", tmp_path / "nightly.key"
    result = runner.invoke(cli, ["backup", str(dest), "--key-file", str(backup_key)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and (backup_key.stat().st_mode & 0o777) == 0o600
    result = runner.invoke(cli, ["backup", "verify", str(dest), "--key-file", str(backup_key)])
    assert result.exit_code == 0 and result.output.startswith("ok:"), result.output
    with TenantStore.open(load_settings(settings.home)) as live:
        (recorded,) = [r for r in live.run(audit_records.records) if r["ToolName"] == "appliance.backup"]
    assert recorded["RecordKind"] == "operator" and recorded["Facts"]["audit_records"] == 1
    result = runner.invoke(cli, ["restore", str(dest), "--key-file", str(backup_key)])
    assert result.exit_code == 1 and "already exists" in result.output and "--replace" in result.output
    result = runner.invoke(cli, ["restore", str(dest), "--key-file", str(backup_key), "--replace"])
    assert result.exit_code == 0, result.output
    assert list(settings.home.glob("appliance.db.before-restore-*"))
    with TenantStore.open(load_settings(settings.home)) as reopened:
        records = reopened.run(audit_records.records)
    assert [r["ToolName"] for r in records] == ["m365_user_get", "appliance.restore"]  # the backup's snapshot


class _StaticKeys:
    """A key held in memory (the restored store's key in this test)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def describe(self) -> str:
        return "test key"

    def load(self) -> bytes:
        return self.key

    def pending_rotation(self) -> bytes | None:
        return None
