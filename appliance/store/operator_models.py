"""Models the operator placed (`appliance models add`) and every qualification run (`models qualify`).

The sha256 pinned here is checked before such a model loads, exactly as the manifest's are: the pin
lives in the encrypted store, so swapping the file on disk makes the model refuse to load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from appliance.store.clock import iso, now
from appliance.store.connection import Connection


@dataclass(frozen=True)
class OperatorModel:
    """One added model: where its file is, its pinned sha256 and what its GGUF metadata says."""

    key: str
    path: str
    sha256: str
    metadata: dict[str, Any]
    added_at: str


def add_model(db: Connection, key: str, path: str, sha256: str, metadata: dict[str, Any]) -> OperatorModel:
    """Pin (or re-pin) a model under `key`."""
    stamp = iso(now())
    db.execute(
        "INSERT INTO operator_models (key, path, sha256, metadata_json, added_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, "
        "metadata_json = excluded.metadata_json, added_at = excluded.added_at",
        (key, path, sha256, json.dumps(metadata, sort_keys=True), stamp),
    )
    return OperatorModel(key, path, sha256, metadata, stamp)


def get_model(db: Connection, key: str) -> OperatorModel | None:
    """The added model with this key, or None."""
    row = db.execute("SELECT key, path, sha256, metadata_json, added_at FROM operator_models WHERE key = ?",
                     (key,)).fetchone()
    return OperatorModel(row[0], row[1], row[2], json.loads(row[3]), row[4]) if row else None


def list_models(db: Connection) -> list[OperatorModel]:
    """Every added model, by key."""
    rows = db.execute("SELECT key, path, sha256, metadata_json, added_at FROM operator_models ORDER BY key")
    return [OperatorModel(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows.fetchall()]


def record_qualification(
    db: Connection, model_key: str, model_sha256: str, sets_sha256: str, passed: bool, report: dict[str, Any]
) -> None:
    """Keep one qualification run, bound to the model file's hash and the sets' hash."""
    db.execute(
        "INSERT INTO model_qualifications (model_key, model_sha256, sets_sha256, passed, report_json, qualified_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (model_key, model_sha256, sets_sha256, int(passed), json.dumps(report, sort_keys=True), iso(now())),
    )


def latest_qualification(db: Connection, model_sha256: str) -> dict[str, Any] | None:
    """The newest run for this model file (`passed`, `rates`, `sets_sha256`, `qualified_at`), or None."""
    row = db.execute(
        "SELECT passed, report_json, sets_sha256, qualified_at, model_key FROM model_qualifications "
        "WHERE model_sha256 = ? ORDER BY id DESC LIMIT 1",
        (model_sha256,),
    ).fetchone()
    if row is None:
        return None
    report = json.loads(row[1])
    return {"passed": bool(row[0]), "rates": report.get("rates", {}), "sets_sha256": row[2],
            "qualified_at": row[3], "model_key": row[4]}
