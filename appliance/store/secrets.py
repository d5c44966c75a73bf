"""Secrets (app secrets, MCP/LLM credentials, the MSAL token cache): AES-256-GCM inside SQLCipher.

The AES key is derived from the tenant key with HKDF-SHA256 (info `aidizen secrets v1`), so a query
result, or a memory dump of fetched rows, holds only ciphertext. The secret's name is the associated
data: a ciphertext moved to another name fails to open. Each row records which derived key sealed it
(`key_id`, a separate HKDF output that reveals nothing about the key), so a key rotation interrupted
half way can be resumed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.store.clock import iso, now
from appliance.store.connection import Connection
from appliance.store.errors import SecretIntegrityError

SEAL_INFO = b"aidizen secrets v1"
KEY_ID_INFO = b"aidizen secrets key id v1"
NONCE_BYTES = 12


def _derive(tenant_key: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(tenant_key)


class SecretBox:
    """AES-256-GCM under a key derived from the tenant key; `key_id` names the derived key."""

    def __init__(self, tenant_key: bytes) -> None:
        self._aead = AESGCM(_derive(tenant_key, SEAL_INFO, 32))
        self.key_id = _derive(tenant_key, KEY_ID_INFO, 8).hex()

    def seal(self, name: str, plaintext: str) -> tuple[bytes, bytes]:
        """(nonce, ciphertext) of `plaintext`, bound to `name`."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, plaintext.encode("utf-8"), name.encode("utf-8"))

    def open(self, name: str, nonce: bytes, ciphertext: bytes) -> str:
        """The plaintext; SecretIntegrityError if it was tampered with or belongs to another name or key."""
        try:
            return self._aead.decrypt(nonce, ciphertext, name.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise SecretIntegrityError(f"secret {name!r} failed authentication (tampered with, or moved)") from None


def put_secret(db: Connection, box: SecretBox, name: str, value: str) -> None:
    """Seal and store (or replace) a secret."""
    nonce, ciphertext = box.seal(name, value)
    db.execute(
        "INSERT INTO secrets (name, key_id, nonce, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce, "
        "ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        (name, box.key_id, nonce, ciphertext, iso(now())),
    )


def get_secret(db: Connection, box: SecretBox, name: str) -> str | None:
    """The secret's value, or None if there is none."""
    row = db.execute("SELECT key_id, nonce, ciphertext FROM secrets WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    if row[0] != box.key_id:
        raise SecretIntegrityError(f"secret {name!r} was sealed under another key (an interrupted key rotation?)")
    return box.open(name, bytes(row[1]), bytes(row[2]))


def delete_secret(db: Connection, name: str) -> bool:
    """Remove a secret; True if it existed."""
    return db.execute("DELETE FROM secrets WHERE name = ?", (name,)).rowcount > 0


def secret_names(db: Connection) -> list[str]:
    """The names of the stored secrets (never their values)."""
    return [str(row[0]) for row in db.execute("SELECT name FROM secrets ORDER BY name")]


def reseal_all(db: Connection, boxes: Mapping[str, SecretBox], target: SecretBox) -> int:
    """Re-seal, under `target`, every secret sealed under another of `boxes` (by key id). Returns how many.

    Part of a key rotation; call it inside a transaction. Idempotent: rows already under `target` stay.
    """
    rows = db.execute("SELECT name, key_id, nonce, ciphertext FROM secrets WHERE key_id != ?", (target.key_id,))
    resealed = 0
    for name, key_id, nonce, ciphertext in rows.fetchall():
        box = boxes.get(key_id)
        if box is None:
            raise SecretIntegrityError(f"secret {name!r} was sealed under a key that is neither the old nor new one")
        put_secret(db, target, name, box.open(name, bytes(nonce), bytes(ciphertext)))
        resealed += 1
    return resealed
