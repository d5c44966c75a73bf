"""Secrets are AES-GCM sealed under a key derived from the tenant key, bound to their name."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.store import secrets
from appliance.store.connection import Connection
from appliance.store.errors import SecretIntegrityError
from appliance.store.secrets import SecretBox


def test_seal_and_open_round_trip_with_fresh_nonces() -> None:
    box = SecretBox(os.urandom(32))
    first, second = box.seal("bot.app_secret", "s3cr3t~"), box.seal("bot.app_secret", "s3cr3t~")
    assert first != second and b"s3cr3t" not in first[1]
    assert box.open("bot.app_secret", *first) == "s3cr3t~"


def test_the_sealing_key_is_derived_not_the_tenant_key_itself() -> None:
    tenant_key = os.urandom(32)
    nonce, ciphertext = SecretBox(tenant_key).seal("n", "value")
    with pytest.raises(InvalidTag):
        AESGCM(tenant_key).decrypt(nonce, ciphertext, b"n")


def test_a_ciphertext_moved_to_another_name_or_key_does_not_open() -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal("llm.api_key", "sk-123")
    with pytest.raises(SecretIntegrityError, match=r"bot\.app_secret"):
        box.open("bot.app_secret", *sealed)
    with pytest.raises(SecretIntegrityError):
        SecretBox(os.urandom(32)).open("llm.api_key", *sealed)


def test_key_id_names_the_derived_key_and_reveals_nothing() -> None:
    key = os.urandom(32)
    assert SecretBox(key).key_id == SecretBox(key).key_id != SecretBox(os.urandom(32)).key_id
    assert SecretBox(key).key_id not in key.hex()


def test_stored_rows_hold_only_ciphertext(db: Connection) -> None:
    box = SecretBox(os.urandom(32))
    secrets.put_secret(db, box, "mcp.token", "canary-token-5d1e")
    secrets.put_secret(db, box, "mcp.token", "canary-token-replaced")
    rows = db.execute("SELECT name, key_id, nonce, ciphertext FROM secrets").fetchall()
    assert len(rows) == 1 and rows[0][1] == box.key_id and b"canary" not in bytes(rows[0][3])
    assert secrets.get_secret(db, box, "mcp.token") == "canary-token-replaced"
    assert secrets.get_secret(db, box, "absent") is None
    assert secrets.secret_names(db) == ["mcp.token"]
    assert secrets.delete_secret(db, "mcp.token") and not secrets.delete_secret(db, "mcp.token")


def test_reseal_moves_every_secret_to_the_new_key_and_is_idempotent(db: Connection) -> None:
    old, new = SecretBox(os.urandom(32)), SecretBox(os.urandom(32))
    for name in ("a", "b", "c"):
        secrets.put_secret(db, old, name, f"value-{name}")
    boxes = {old.key_id: old, new.key_id: new}
    assert secrets.reseal_all(db, boxes, new) == 3
    assert secrets.reseal_all(db, boxes, new) == 0
    assert [secrets.get_secret(db, new, name) for name in ("a", "b", "c")] == ["value-a", "value-b", "value-c"]
    with pytest.raises(SecretIntegrityError, match="another key"):
        secrets.get_secret(db, old, "a")


def test_reseal_refuses_a_secret_under_an_unknown_key(db: Connection) -> None:
    stranger, new = SecretBox(os.urandom(32)), SecretBox(os.urandom(32))
    secrets.put_secret(db, stranger, "x", "y")
    with pytest.raises(SecretIntegrityError, match="neither the old nor new"):
        secrets.reseal_all(db, {new.key_id: new}, new)
