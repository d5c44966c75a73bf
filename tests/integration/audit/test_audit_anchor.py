"""The audit chain's anchor on a real SQLCipher store, through the real CLI: signed checkpoints kept
outside the store (ops log, an auditor's file) let `appliance audit verify` detect a deleted newest
record and a consistent rewrite of the whole chain, which the hash chain alone cannot."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import ops_log
from appliance.audit.anchor import sign_checkpoint
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.store import TenantStore, audit_records
from appliance.store.anchor_key import anchor_key_path, load_anchor_key
from appliance.store.audit_anchor import log_checkpoint, signed_head
from appliance.store.audit_chain import GENESIS_HASH, chained
from appliance.store.clock import now
from appliance.store.connection import Connection
from tests.store_scan import every_value


def _verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", *args])
    return result.exit_code, result.output


def _tamper(home: Path, change: object) -> None:
    """Someone holding the store key (but not the anchor key) changes the file behind the appliance's back."""
    with TenantStore.open(load_settings(home)) as store:

        def run(db: Connection) -> None:
            db.execute("DROP TRIGGER audit_records_append_only")
            db.execute("DROP TRIGGER audit_records_kept_for_retention")
            change(db)  # type: ignore[operator]

        store.run(run)


def _delete_newest(db: Connection) -> None:
    db.execute("DELETE FROM audit_records WHERE seq = (SELECT max(seq) FROM audit_records)")


def _rebuild_whole_chain(db: Connection) -> None:
    """Edit the first record and re-chain every record after it, columns included: the chain walks clean."""
    previous = GENESIS_HASH
    for seq, text in db.execute("SELECT seq, record_json FROM audit_records ORDER BY seq").fetchall():
        record = json.loads(text)
        if seq == 1:
            record["RequestedBy"] = "eve@contoso.com"
        stored = chained({k: v for k, v in record.items() if k not in ("PreviousHash", "Hash")}, previous)
        db.execute("UPDATE audit_records SET record_json = ?, previous_hash = ?, hash = ?, requested_by = ? "
                   "WHERE seq = ?", (json.dumps(stored), stored["PreviousHash"], stored["Hash"],
                                     stored["RequestedBy"], seq))
        previous = stored["Hash"]


def test_the_anchor_key_lives_beside_the_store_key_with_mode_0600(home: Path) -> None:
    settings = load_settings(home)
    path = anchor_key_path(settings)
    assert path.parent == home.parent and path.name == "home.audit-anchor.pem"
    assert path.stat().st_mode & 0o777 == 0o600 and home not in path.parents
    with TenantStore.open(settings) as store:  # the store holds no copy of it
        dump = store.run(every_value)
    raw = load_anchor_key(path).private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption())
    assert raw.hex() not in dump


def test_a_kept_checkpoint_file_detects_a_deleted_newest_record(home: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept-checkpoint.jsonl"
    made = CliRunner().invoke(cli, ["audit", "checkpoint", "--out", str(kept)])
    assert made.exit_code == 0 and "checkpoint of record 3" in made.output, made.output
    assert kept.stat().st_mode & 0o777 == 0o600
    code, output = _verify("--checkpoint", str(kept))
    assert code == 0 and "intact: 3 records" in output and "matches the signed checkpoint" in output

    _tamper(home, _delete_newest)
    code, output = _verify("--checkpoint", str(kept))
    assert code == 1, output
    assert "intact: 2 records" in output  # the hash chain alone sees nothing wrong
    assert "ends at record 2, but 3 records had been written" in output and "truncated" in output
    code, output = _verify()  # without the kept file and with no ops log: said plainly, not hidden
    assert code == 0 and "cannot be ruled out" in output


def test_the_ops_log_checkpoint_detects_a_consistent_rewrite_of_the_whole_chain(home: Path) -> None:
    settings = load_settings(home)
    ops_log.configure(home / "logs", b"salt", to_stderr=False)
    try:
        with TenantStore.open(settings) as store:
            log_checkpoint(store.run(signed_head, load_anchor_key(anchor_key_path(settings)), now()))
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
    line = next(json.loads(t) for t in (home / "logs" / "ops.jsonl").read_text().splitlines() if "checkpoint" in t)
    assert line["count"] == 3 and len(line["head"]) == 64 and line["signature"].endswith("==")
    code, output = _verify()
    assert code == 0 and "matches the signed checkpoint" in output

    _tamper(home, _rebuild_whole_chain)
    code, output = _verify()
    assert code == 1, output
    assert "intact: 3 records" in output  # rebuilt consistently: every Hash recomputed
    assert "record 3 has another Hash than the one signed" in output and "rewritten" in output


def test_a_checkpoint_signed_by_another_key_is_ignored_and_counted(home: Path, tmp_path: Path) -> None:
    with TenantStore.open(load_settings(home)) as store:
        count, head = store.run(audit_records.head)
    forged = sign_checkpoint(Ed25519PrivateKey.generate(), count=count + 5, head=head, moment=now())
    path = tmp_path / "forged.jsonl"
    path.write_text(json.dumps(forged.as_dict()) + "\n")
    code, output = _verify("--checkpoint", str(path))
    assert code == 0 and "1 checkpoint(s) ignored" in output and "cannot be ruled out" in output


def test_an_auditor_verifies_with_the_public_key_alone(home: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.jsonl"
    assert CliRunner().invoke(cli, ["audit", "checkpoint", "--out", str(kept)]).exit_code == 0
    public = tmp_path / "anchor.pub.pem"
    key = load_anchor_key(anchor_key_path(load_settings(home)))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    anchor_key_path(load_settings(home)).unlink()  # the auditor's machine has no private key
    code, output = _verify("--checkpoint", str(kept), "--public-key", str(public))
    assert code == 0 and "matches the signed checkpoint" in output
    again = CliRunner().invoke(cli, ["audit", "checkpoint", "--out", str(kept)])
    assert again.exit_code != 0 and "does not exist" in again.output
