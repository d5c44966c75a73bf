"""Secrets (app secrets, MCP/LLM credentials, the MSAL token cache): AES-256-GCM inside SQLCipher.

The AES key is derived from the tenant key with HKDF-SHA256 (info `aidizen secrets v1`), so a query
result or a memory dump of rows holds only ciphertext; the secret's name is bound as associated data
(a ciphertext moved to another name fails to decrypt).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.store.clock import iso, now
from appliance.store.connection import Connection
from appliance.store.errors import StoreError

TOKEN_CACHE_SECRET = "msal.token_cache"


class SecretBox:
    """AES-GCM under a key derived from the tenant key."""

    def __init__(self, tenant_key: bytes) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aidizen secrets v1").derive(tenant_key)
        self._aead = AESGCM(derived)

    def seal(self, name: str, plaintext: str) -> tuple[bytes, bytes]:
        """(nonce, ciphertext) for `plaintext`, bound to `name`."""
        nonce = os.urandom(12)
        return nonce, self._aead.encrypt(nonce, plaintext.encode(), name.encode())

    def open(self, name: str, nonce: bytes, ciphertext: bytes) -> str:
        """The plaintext, or StoreError if it was tampered with or belongs to another name/key."""
        try:
            return self._aead.decrypt(nonce, ciphertext, name.encode()).decode()
        except InvalidTag:
            raise StoreError(f"secret {name!r} failed authentication (tampered, or sealed under another key)") from None


def put_secret(db: Connection, box: SecretBox, name: str, value: str) -> None:
    """Store (or replace) a secret."""
    nonce, ciphertext = box.seal(name, value)
    db.execute(
        "INSERT INTO secrets (name, nonce, ciphertext, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, "
        "updated_at = excluded.updated_at",
        (name, nonce, ciphertext, iso(now())),
    )


def get_secret(db: Connection, box: SecretBox, name: str) -> str | None:
    """The secret's value, or None if there is none."""
    row = db.execute("SELECT nonce, ciphertext FROM secrets WHERE name = ?", (name,)).fetchone()
    return box.open(name, bytes(row[0]), bytes(row[1])) if row else None


def delete_secret(db: Connection, name: str) -> bool:
    """Remove a secret; True if it existed."""
    return bool(db.execute("DELETE FROM secrets WHERE name = ?", (name,)).rowcount)


def reseal_all(db: Connection, old: SecretBox, new: SecretBox) -> int:
    """Re-encrypt every secret under `new` (part of a key rotation); returns how many."""
    names = [row[0] for row in db.execute("SELECT name FROM secrets").fetchall()]
    for name in names:
        value = get_secret(db, old, name)
        assert value is not None
        put_secret(db, new, name, value)
    return len(names)


def get_setting(db: Connection, key: str) -> str | None:
    """A key/value setting (plain configuration state, never a secret)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def set_setting(db: Connection, key: str, value: str) -> None:
    """Set a key/value setting."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
