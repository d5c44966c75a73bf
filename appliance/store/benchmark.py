"""The store section of `appliance bench`: the appliance's own write pattern on SQLCipher vs plain
sqlite3, with identical code and settings (WAL, synchronous=NORMAL), measured in one run; SQLCipher
both with memory security (the default) and without, since that one setting dominates the cost."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from appliance.store import audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.connection import Connection, open_encrypted, open_plain
from appliance.store.migrations import migrate


def _one_turn(db: Connection, i: int) -> None:
    """One confirmed action's worth of writes: two turns, an action through its states, an audit record."""
    ref = f"conv-{i % 16}"
    conversations.append_turn(db, ref, "user", f"assign ENTERPRISEPACK to user{i}@contoso.com")
    action_id = str(uuid.uuid4())
    pending_actions.create_action(
        db, action_id=action_id, conversation_ref=ref, requester_id="aad-1", tool="m365_license_assign",
        arguments_json=json.dumps({"user": f"user{i}@contoso.com", "sku": "ENTERPRISEPACK"}),
        summary=f"Assign ENTERPRISEPACK to user{i}@contoso.com", action_hash="h" * 64,
        expires_at=now() + timedelta(minutes=10),
    )  # fmt: skip
    pending_actions.transition(db, action_id, "AWAITING", "CONFIRMED", confirmed_by="aad-1")
    request_id = str(uuid.uuid4())
    pending_actions.transition(db, action_id, "CONFIRMED", "EXECUTING", client_request_id=request_id)
    pending_actions.transition(db, action_id, "EXECUTING", "DONE")
    audit_records.append_record(db, {"ToolName": "m365_license_assign", "ClientRequestId": request_id, "N": i})
    conversations.append_turn(db, ref, "tool", "m365_license_assign -> done")


def _measure(open_db: Callable[[], Connection], rounds: int) -> float:
    db = open_db()
    migrate(db)
    started = time.perf_counter()
    for i in range(rounds):
        _one_turn(db, i)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed / rounds * 1000


def run(workdir: Path, rounds: int = 300, repeats: int = 3) -> dict[str, float]:
    """Alternate SQLCipher and plain runs `repeats` times; report medians, their ratio, and open time."""
    key = os.urandom(32)
    # SQLCipher's memory security is process-global and stays on once enabled, so every run
    # without it comes first; each SQLCipher run is paired with a plain run right after it.
    fast_ms, plain_fast_ms, cipher_ms, plain_ms = [], [], [], []
    for r in range(repeats):
        fast_ms.append(_measure(partial(open_encrypted, workdir / f"fast-{r}.db", key, "bench", memory_security=False),
                                rounds))  # fmt: skip
        plain_fast_ms.append(_measure(partial(open_plain, workdir / f"plain-a{r}.db"), rounds))
    for r in range(repeats):
        cipher_ms.append(_measure(partial(open_encrypted, workdir / f"cipher-{r}.db", key, "bench"), rounds))
        plain_ms.append(_measure(partial(open_plain, workdir / f"plain-b{r}.db"), rounds))
    opens = []
    for _ in range(20):
        started = time.perf_counter()
        open_encrypted(workdir / "cipher-0.db", key, "bench").close()
        opens.append(time.perf_counter() - started)
    cipher, plain = statistics.median(cipher_ms), statistics.median(plain_ms)
    fast, plain_fast = statistics.median(fast_ms), statistics.median(plain_fast_ms)
    return {
        "store.sqlcipher_ms_per_op": cipher,
        "store.plain_ms_per_op": plain,
        "store.sqlcipher_vs_plain_ratio": cipher / plain,
        "store.sqlcipher_no_memory_security_ms_per_op": fast,
        "store.sqlcipher_no_memory_security_vs_plain_ratio": fast / plain_fast,
        "store.open_ms": statistics.median(opens) * 1000,
        "store.rounds": float(rounds),
    }
