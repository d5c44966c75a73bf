"""The store section of `appliance bench`: the appliance's own write pattern on SQLCipher vs plain sqlite3.

One op = what one confirmed state change writes, through the store API the gate uses, in four
transactions: the user's turn + the proposed action (`propose_action`), the confirmation, EXECUTING with
its client-request-id (committed before the Graph call), and DONE + the hash-chained audit record + the
tool-result turn (`finish_action`). Both sides run the same repository code with the same connection
settings (WAL, synchronous=FULL, ...), op by op alternately, in one process; medians of `repeats` runs are reported.

`cipher_memory_security` is process-wide and cannot be switched off again once on, so the variants
without it run first:
- `store.sqlcipher_*`: the shipped configuration (memory security on, durable commits);
- `store.sqlcipher_no_memory_security_*`: the same without memory security (what it costs);
- `store.sqlcipher_no_fsync_*`: synchronous=NORMAL on both sides and no memory security: the CPU cost
  of page encryption alone.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

from appliance.store import action_steps, pending_actions
from appliance.store.clock import now
from appliance.store.connection import Connection, open_encrypted, open_plain
from appliance.store.migrations import migrate
from appliance.types import ActionState

OPEN_SAMPLES = 30


def one_op(db: Connection, i: int) -> None:
    """The writes of one confirmed action (see the module docstring)."""
    ref, requester, action_id, action_hash = f"teams:conv-{i % 16}", f"aad-{i % 16}", str(uuid.uuid4()), f"{i:064x}"
    action_steps.propose_action(
        db, user_text=f"assign ENTERPRISEPACK to user{i}@contoso.com", action_id=action_id, conversation_ref=ref,
        requester_id=requester, tool="m365_license_assign", arguments={"user": f"user{i}@contoso.com",
        "sku": "ENTERPRISEPACK"}, summary=f"Assign ENTERPRISEPACK to user{i}@contoso.com", action_hash=action_hash,
        expires_at=now() + timedelta(minutes=10),
    )
    request_id = str(uuid.uuid4())
    confirmed = pending_actions.confirm(db, action_id, requester_id=requester, action_hash=action_hash)
    executing = pending_actions.transition(
        db, action_id, ActionState.CONFIRMED, ActionState.EXECUTING, client_request_id=request_id
    )
    record = action_steps.finish_action(
        db, action_id, ActionState.DONE,
        {"RequestedBy": f"user{i % 16}@contoso.com", "ConfirmedAt": now(), "ConversationRef": ref,
         "ActionSummary": f"Assign ENTERPRISEPACK to user{i}@contoso.com", "Orchestrator": "bench",
         "ToolName": "m365_license_assign", "Implementer": "Direct", "ClientRequestId": request_id,
         "GraphRequestId": str(uuid.uuid4()), "Outcome": "Success", "ExecutedAt": now()},
        tool_turn="m365_license_assign -> assigned 1 license",
    )
    if not (confirmed and executing and record):
        raise RuntimeError(f"benchmark action {action_id} did not move through its states")


def _pair(workdir: Path, key: bytes, rounds: int, *, memory_security: bool, synchronous: str) -> tuple[float, float]:
    """ms per op on SQLCipher and on plain sqlite3, ops interleaved one by one (the disk's mood hits both)."""
    name = uuid.uuid4().hex[:12]
    cipher = open_encrypted(workdir / f"{name}-cipher.db", key, "bench key", memory_security=memory_security)
    plain = open_plain(workdir / f"{name}-plain.db")
    elapsed = [0.0, 0.0]
    try:
        for db in (cipher, plain):
            migrate(db)
            db.execute(f"PRAGMA synchronous = {synchronous}")
            for i in range(min(20, rounds)):  # warm the page cache and the statement cache
                one_op(db, -1 - i)
        for i in range(rounds):
            for side, db in enumerate((cipher, plain) if i % 2 else (plain, cipher)):
                started = time.perf_counter()
                one_op(db, i)
                elapsed[side if i % 2 else 1 - side] += time.perf_counter() - started
    finally:
        cipher.close()
        plain.close()
    return elapsed[0] / rounds * 1000, elapsed[1] / rounds * 1000


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    cipher, plain = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    return cipher, plain, statistics.median(p[0] / p[1] for p in pairs)


def run(workdir: Path, rounds: int = 200, repeats: int = 5) -> dict[str, float]:
    """Measure `rounds` ops per run, `repeats` alternating runs per variant; medians, ratios, raw-key open time."""
    key = os.urandom(32)
    results: dict[str, float] = {"store.rounds": float(rounds), "store.transactions_per_op": 4.0}
    variants = (("_no_fsync", False, "NORMAL"), ("_no_memory_security", False, "FULL"), ("", True, "FULL"))
    for suffix, memory_security, synchronous in variants:
        pairs = [_pair(workdir, key, rounds, memory_security=memory_security, synchronous=synchronous)
                 for _ in range(repeats)]
        cipher, plain, ratio = _medians(pairs)
        results[f"store.sqlcipher{suffix}_ms_per_op"] = cipher
        results[f"store.plain{suffix}_ms_per_op"] = plain
        results[f"store.sqlcipher{suffix}_vs_plain_ratio"] = ratio
    results["store.open_ms"] = _open_ms(workdir, key)
    return results


def _open_ms(workdir: Path, key: bytes) -> float:
    """Median time until an existing store is usable: connect, raw key, key check (reads the schema), pragmas.

    Memory security is on (as shipped); closing is not counted.
    """
    path = workdir / "open.db"
    db = open_encrypted(path, key, "bench key")
    migrate(db)
    db.close()
    samples = []
    for _ in range(OPEN_SAMPLES):
        started = time.perf_counter()
        db = open_encrypted(path, key, "bench key")
        samples.append(time.perf_counter() - started)
        db.close()
    return statistics.median(samples) * 1000
