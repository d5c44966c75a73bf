"""Migrations, append-only audit, crash consistency (kill -9), concurrency, retention, export."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.store import TenantStore, audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.errors import SchemaTooNewError, StoreError
from appliance.store.export import export_jsonl
from appliance.store.retention import purge
from appliance.store.shred import shred_store


def test_a_store_from_a_newer_version_is_refused_untouched(store: TenantStore, settings: Settings) -> None:
    store.run(lambda db: db.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"))
    store.close()
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNewError, match="999"):
        TenantStore.open(settings)
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before


def test_audit_records_are_append_only_and_entry_id_is_filled_once(store: TenantStore) -> None:
    store.run(audit_records.append_record, {"ToolName": "m365_user_disable", "ClientRequestId": "crid-1"})
    with pytest.raises(Exception, match="append-only"):
        store.run(lambda db: db.execute("UPDATE audit_records SET record_json = '{}'"))
    with pytest.raises(Exception, match="retention"):
        store.run(lambda db: db.execute("DELETE FROM audit_records"))
    assert store.run(audit_records.set_audit_entry_id, "crid-1", "e3a1c8b7") is True
    assert store.run(audit_records.set_audit_entry_id, "crid-1", "other") is False
    with pytest.raises(Exception, match="append-only"):
        store.run(lambda db: db.execute("UPDATE audit_records SET audit_entry_id = 'x'"))
    assert store.run(audit_records.records)[0]["AuditEntryId"] == "e3a1c8b7"
    assert store.run(audit_records.verify).ok


def test_verify_names_the_first_edited_record(store: TenantStore) -> None:
    for i in range(5):
        store.run(audit_records.append_record, {"N": i})

    def tamper(db) -> None:  # type: ignore[no-untyped-def]
        db.execute("DROP TRIGGER audit_records_no_update")  # an attacker with the key could do this
        row = db.execute("SELECT seq, record_json FROM audit_records WHERE seq = 3").fetchone()
        record = json.loads(row[1])
        record["N"] = 99
        db.execute("UPDATE audit_records SET record_json = ? WHERE seq = 3", (json.dumps(record),))

    store.run(tamper)
    report = store.run(audit_records.verify)
    assert not report.ok and report.first_broken == 3 and report.checked == 2


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from appliance.store import TenantStore, audit_records
    from appliance.store.keys import FileKeyProvider
    home, key = Path(sys.argv[1]), Path(sys.argv[2])
    store = TenantStore(home / "appliance.db", FileKeyProvider(key, home))
    i = 0
    while True:
        record = store.run(audit_records.append_record, {"N": i, "pad": "x" * 500})
        print(i, record["Hash"], flush=True)
        i += 1
    """
)


def test_kill_9_during_a_write_loop_loses_no_committed_row(
    store: TenantStore, settings: Settings, key_file: Path
) -> None:
    store.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(key_file)], stdout=subprocess.PIPE, text=True, env=env
    )
    committed: list[tuple[int, str]] = []
    assert child.stdout is not None
    for line in child.stdout:
        n, digest = line.split()
        committed.append((int(n), digest))
        if len(committed) >= 200:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    with TenantStore.open(settings) as reopened:
        assert reopened.run(lambda db: db.execute("PRAGMA integrity_check").fetchone()[0]) == "ok"
        stored = {r["Hash"]: r["N"] for r in reopened.run(audit_records.records)}
        assert all(stored.get(digest) == n for n, digest in committed)
        assert reopened.run(audit_records.verify).ok


async def test_many_asyncio_tasks_write_and_read_at_once(store: TenantStore) -> None:
    async def conversation(c: int) -> int:
        ref = f"conv-{c}"
        for i in range(10):
            await store.arun(conversations.append_turn, ref, "user", f"message {i}")
            await store.arun(audit_records.append_record, {"conversation": c, "i": i})
            turns = await store.arun(conversations.recent_turns, ref)
            assert turns[-1].text == f"message {i}"
        return len(await store.arun(conversations.recent_turns, ref, 100))

    counts = await asyncio.gather(*(conversation(c) for c in range(25)))
    assert counts == [10] * 25
    assert len(await store.arun(audit_records.records)) == 250
    assert (await store.arun(audit_records.verify)).ok


def test_only_one_of_two_confirmations_wins(store: TenantStore) -> None:
    action = store.run(
        pending_actions.create_action, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
        arguments_json="{}", summary="s", action_hash="h", expires_at=now() + timedelta(minutes=10),
    )  # fmt: skip
    results = [store.run(pending_actions.transition, action.id, "AWAITING", "CONFIRMED") for _ in range(2)]
    assert results == [True, False]
    assert store.run(pending_actions.get_action, "a1").confirmed_at is not None


def test_retention_purges_old_rows_but_never_young_audit_records(store: TenantStore, settings: Settings) -> None:
    store.run(conversations.append_turn, "c", "user", "hello")
    action = store.run(
        pending_actions.create_action, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
        arguments_json="{}", summary="s", action_hash="h", expires_at=now(),
    )  # fmt: skip
    store.run(pending_actions.transition, action.id, "AWAITING", "CANCELLED")
    for i in range(3):
        store.run(audit_records.append_record, {"N": i})
    today = store.run(purge, settings.store)
    assert (today.conversation_turns, today.pending_actions, today.audit_records) == (0, 0, 0)
    in_two_days = store.run(purge, settings.store, now() + timedelta(days=2))
    assert (in_two_days.pending_actions, in_two_days.audit_records) == (1, 0)
    in_a_month = store.run(purge, settings.store, now() + timedelta(days=31))
    assert in_a_month.conversation_turns == 1 and in_a_month.audit_records == 0
    assert len(store.run(audit_records.records)) == 3
    later = store.run(purge, settings.store, now() + timedelta(days=settings.store.retention_audit_days + 1))
    assert later.audit_records == 3
    store.run(audit_records.append_record, {"N": 3})
    assert store.run(audit_records.verify).ok  # the chain continues from the purged records' anchor


def test_export_writes_conversations_and_audit_as_json_lines(store: TenantStore, tmp_path: Path) -> None:
    store.run(conversations.append_turn, "c", "user", "hello")
    store.run(audit_records.append_record, {"ToolName": "m365_user_get"})
    counts = store.run(export_jsonl, tmp_path / "export")
    assert counts == {"conversations.jsonl": 1, "audit.jsonl": 1}
    audit = json.loads((tmp_path / "export" / "audit.jsonl").read_text())
    assert audit["ToolName"] == "m365_user_get" and len(audit["Hash"]) == 64
    assert ((tmp_path / "export" / "audit.jsonl").stat().st_mode & 0o777) == 0o600


def test_crypto_shred_leaves_nothing_that_opens(store: TenantStore, settings: Settings, key_file: Path) -> None:
    store.run(conversations.append_turn, "c", "user", "hello")
    store.close()
    steps = shred_store(store.path, store.keys)
    assert not key_file.exists() and not store.path.exists() and steps[0].startswith("destroyed")
    with pytest.raises(StoreError):
        TenantStore.open(settings)
