"""Migrations, crash consistency (kill -9), concurrency, retention, export and crypto-shred on real files."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.config import Settings
from appliance.store import TenantStore, audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.connection import Connection
from appliance.store.errors import SchemaTooNewError, StoreError
from appliance.store.export import export_jsonl
from appliance.store.key_value_settings import get_setting
from appliance.store.retention import LAST_PURGE_SETTING, PurgeReport, purge, purge_periodically
from appliance.store.shred import shred_store

REPO_ROOT = Path(__file__).resolve().parents[3]


def _audit(n: int, **extra: object) -> dict[str, object]:
    return {"ToolName": "m365_user_disable", "Outcome": "Success", "ClientRequestId": f"crid-{n}", "N": n, **extra}


def test_a_store_from_a_newer_version_is_refused_untouched(store: TenantStore, settings: Settings) -> None:
    store.run(lambda db: db.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 'x')"))
    store.close()
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNewError, match="version 999") as caught:
        TenantStore.open(settings)
    assert "not modified" in caught.value.hint
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before
    assert not Path(f"{store.path}-wal").exists() or Path(f"{store.path}-wal").stat().st_size == 0


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from appliance.store import TenantStore, audit_records, conversations
    from appliance.store.keys import FileKeyProvider
    home, key = Path(sys.argv[1]), Path(sys.argv[2])
    store = TenantStore(home / "appliance.db", FileKeyProvider(key, home))
    i = 0
    while True:
        # one turn and one audit record per round, each its own transaction
        store.run(conversations.append_turn, "c", "user", f"canary-kill9-message {i}", keep_last=100000)
        record = store.run(audit_records.append_record, {"ToolName": "t", "Outcome": "Success", "N": i,
                                                         "RequestedBy": "canary-kill9@contoso.com"})
        print(i, record["Hash"], flush=True)
        i += 1
    """
)


def test_kill_9_during_a_write_loop_loses_no_committed_row(
    store: TenantStore, settings: Settings, key_file: Path
) -> None:
    store.close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(key_file)], stdout=subprocess.PIPE, text=True, env=env
    )
    committed: list[tuple[int, str]] = []
    assert child.stdout is not None
    for line in child.stdout:  # every printed line was committed before it was printed
        n, digest = line.split()
        committed.append((int(n), digest))
        if len(committed) >= 150:
            break
    child.send_signal(signal.SIGKILL)  # mid-loop: the child keeps writing until the signal lands
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert Path(f"{store.path}-wal").exists()  # killed, not closed: the WAL holds the newest commits
    leftovers = [p for p in settings.home.rglob("*") if p.is_file()]
    assert not any(b"canary-kill9" in p.read_bytes() for p in leftovers)
    with TenantStore.open(settings) as reopened:
        assert reopened.run(lambda db: db.execute("PRAGMA integrity_check").fetchone()[0]) == "ok"
        stored = {r["Hash"]: r["N"] for r in reopened.run(audit_records.records)}
        assert all(stored.get(digest) == n for n, digest in committed)
        assert reopened.run(audit_records.verify).ok
        turns = reopened.run(conversations.recent_turns, "c", 100000)
        assert len(turns) >= len(committed) and len(stored) in (len(turns), len(turns) - 1)


async def test_many_asyncio_tasks_write_and_read_at_once(store: TenantStore) -> None:
    async def conversation(c: int) -> int:
        ref = f"conv-{c}"
        for i in range(8):
            await store.arun(conversations.append_turn, ref, "user", f"message {i}")
            await store.arun(audit_records.append_record, _audit(c * 100 + i))
            turns = await store.arun(conversations.recent_turns, ref)
            assert turns[-1].text == f"message {i}"  # every task reads its own writes
        return len(await store.arun(conversations.recent_turns, ref, 100))

    def sync_caller() -> None:  # a thread using the blocking API at the same time
        for i in range(20):
            store.put_secret(f"thread.{i}", f"value {i}")

    thread = threading.Thread(target=sync_caller)
    thread.start()
    counts = await asyncio.gather(*(conversation(c) for c in range(40)))
    await asyncio.to_thread(thread.join)
    assert counts == [8] * 40
    assert len(await store.arun(audit_records.records)) == 320
    assert (await store.arun(audit_records.verify)).ok  # a single chain, no forks under concurrency
    assert store.get_secret("thread.19") == "value 19"


async def test_racing_confirmations_let_exactly_one_win(store: TenantStore) -> None:
    await store.arun(
        pending_actions.create_action, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
        arguments={}, summary="s", action_hash="h", expires_at=now() + timedelta(minutes=10),
    )
    confirmations = [store.arun(pending_actions.confirm, "a1", requester_id="r", action_hash="h") for _ in range(20)]
    executions = [
        store.arun(pending_actions.transition, "a1", "CONFIRMED", "EXECUTING", client_request_id=f"crid-{i}")
        for i in range(20)
    ]
    results = await asyncio.gather(*confirmations, *executions)
    assert sum(results[:20]) == 1 and sum(results[20:]) == 1
    action = await store.arun(pending_actions.get_action, "a1")
    assert action is not None and action.state == "EXECUTING" and action.client_request_id is not None


def test_retention_purges_old_rows_but_never_young_audit_records(store: TenantStore, settings: Settings) -> None:
    store.run(conversations.append_turn, "c", "user", "hello")
    store.run(
        pending_actions.create_action, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
        arguments={}, summary="s", action_hash="h", expires_at=now() + timedelta(minutes=10),
    )
    for n in range(3):
        store.run(audit_records.append_record, _audit(n))
    policy = settings.store
    assert store.run(purge, policy) == PurgeReport(0, 0, 0, 0)
    in_two_days = store.run(purge, policy, now() + timedelta(days=2))
    assert (in_two_days.actions_expired, in_two_days.pending_actions, in_two_days.audit_records) == (1, 0, 0)
    in_four_days = store.run(purge, policy, now() + timedelta(days=4))  # ended 2 days ago > 1 day
    assert (in_four_days.pending_actions, in_four_days.conversation_turns) == (1, 0)
    in_a_month = store.run(purge, policy, now() + timedelta(days=31))
    assert in_a_month.conversation_turns == 1 and in_a_month.audit_records == 0
    almost = store.run(purge, policy, now() + timedelta(days=policy.retention_audit_days - 1))
    # 9 kept: the 3 above, the expired action's record and each of the 5 purges' operator records
    assert almost.audit_records == 0 and store.run(audit_records.count) == 9
    with pytest.raises(Exception, match="retention"):  # and the database itself refuses a young delete
        store.run(lambda db: db.execute("DELETE FROM audit_records"))
    later = store.run(purge, policy, now() + timedelta(days=policy.retention_audit_days + 1))
    assert later.audit_records == 9, later
    store.run(audit_records.append_record, _audit(3))
    assert store.run(audit_records.verify).ok  # the chain goes on from the purged records' anchor


def test_an_executing_action_is_never_purged(store: TenantStore, settings: Settings) -> None:
    store.run(
        pending_actions.create_action, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
        arguments={}, summary="s", action_hash="h", expires_at=now() + timedelta(minutes=1),
    )
    store.run(pending_actions.confirm, "a1", requester_id="r", action_hash="h")
    store.run(pending_actions.transition, "a1", "CONFIRMED", "EXECUTING", client_request_id="crid-1")
    store.run(purge, settings.store, now() + timedelta(days=400))
    action = store.run(pending_actions.get_action, "a1")
    assert action is not None and action.state == "EXECUTING"


def test_export_writes_conversations_and_audit_as_json_lines(store: TenantStore, tmp_path: Path) -> None:
    store.run(conversations.append_turn, "c", "user", "héllo")
    store.run(conversations.append_turn, "c", "tool", "m365_user_get -> found 1 user")
    store.run(audit_records.append_record, _audit(1, ToolName="m365_user_get"))
    store.run(audit_records.set_audit_entry_id, "crid-1", "directoryAudit-7", "correlationId")
    counts = store.run(export_jsonl, tmp_path / "export")
    assert counts == {"conversations.jsonl": 2, "audit.jsonl": 1}
    turns = [json.loads(line) for line in (tmp_path / "export" / "conversations.jsonl").read_text().splitlines()]
    assert [t["text"] for t in turns] == ["héllo", "m365_user_get -> found 1 user"]
    audit = json.loads((tmp_path / "export" / "audit.jsonl").read_text())
    assert audit["ToolName"] == "m365_user_get" and audit["AuditEntryId"] == "directoryAudit-7"
    assert audit["AuditEntryMatchedBy"] == "correlationId"  # how the join matched it, exported too
    assert len(audit["Hash"]) == 64 and audit["PreviousHash"] == "0" * 64
    assert all((tmp_path / "export" / n).stat().st_mode & 0o777 == 0o600 for n in counts)
    with pytest.raises(StoreError, match="refusing to overwrite"):
        store.run(export_jsonl, tmp_path / "export")


def test_crypto_shred_leaves_nothing_that_opens(store: TenantStore, settings: Settings, key_file: Path) -> None:
    store.run(conversations.append_turn, "c", "user", "hello")
    store.close()
    steps = shred_store(store.path, store.keys)
    assert steps[0].startswith("destroyed the key file") and not key_file.exists()
    assert not any(settings.home.iterdir())
    with pytest.raises(StoreError):
        TenantStore.open(settings)


async def test_the_periodic_purge_runs_until_stopped(store: TenantStore, settings: Settings) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(purge_periodically(store, settings.store, timedelta(milliseconds=20), stop))

    async def purged_once() -> None:
        while store.run(get_setting, LAST_PURGE_SETTING) is None:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(purged_once(), timeout=30)  # fails instead of hanging if no purge ever runs
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert task.done() and task.exception() is None


def test_work_on_the_store_thread_may_call_the_store_again(store: TenantStore) -> None:
    def outer(db: object) -> str | None:
        store.put_secret("nested", "ok")  # would deadlock if `run` always queued behind itself
        return store.get_secret("nested")

    assert store.run(outer) == "ok"
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_secret("nested")


def test_verify_names_the_first_edited_record(store: TenantStore, settings: Settings) -> None:
    for n in range(5):
        store.run(audit_records.append_record, _audit(n))
    store.close()
    with TenantStore.open(settings) as tampering:  # someone holding the key edits the file behind our back

        def edit(db: Connection) -> None:
            db.execute("DROP TRIGGER audit_records_append_only")
            text = db.execute("SELECT record_json FROM audit_records WHERE seq = 3").fetchone()[0]
            db.execute("UPDATE audit_records SET record_json = ? WHERE seq = 3", (text.replace("Success", "Skipped"),))

        tampering.run(edit)
    with TenantStore.open(settings) as reopened:
        report = reopened.run(audit_records.verify)
    assert (report.ok, report.first_broken, report.checked) == (False, 3, 2)
    assert report.describe().startswith("audit chain broken at record 3")
