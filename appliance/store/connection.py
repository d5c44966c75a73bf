"""Opening a SQLCipher database with a raw 256-bit key (no passphrase KDF on each open).

`open_encrypted` refuses a plaintext SQLite file and a wrong key with errors that name the key's
source. `open_plain` exists only so the benchmark can run identical code on stock sqlite3.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlcipher3

from appliance.store.errors import StoreKeyError, StoreNotEncryptedError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
Connection = Any  # a DB-API connection: sqlcipher3's or sqlite3's, same interface


def is_plaintext_sqlite(path: Path) -> bool:
    """True if the file starts with the plain SQLite header (SQLCipher files look random)."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def _configure(connection: Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def open_encrypted(path: Path, key: bytes, key_source: str, *, memory_security: bool = True) -> Connection:
    """Open (or create) `path` as SQLCipher with `key`; check the key on the first query.

    `memory_security` wipes SQLCipher's freed memory (keys, decrypted pages); it costs ~4x on small
    writes (docs/BENCHMARKS.md) and is on unless the operator turns it off.
    """
    if is_plaintext_sqlite(path):
        raise StoreNotEncryptedError(f"{path} is an unencrypted SQLite database; refusing to open it")
    connection = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=True)
    connection.execute("PRAGMA cipher_log_level = NONE")
    connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    connection.execute(f"PRAGMA cipher_memory_security = {'ON' if memory_security else 'OFF'}")
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        connection.close()
        raise StoreKeyError(f"{path} cannot be opened with the {key_source}: wrong key or not a store") from None
    _configure(connection)
    return connection


def rekey(connection: Connection, new_key: bytes) -> None:
    """Re-encrypt every page under `new_key` (SQLCipher `PRAGMA rekey`)."""
    connection.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")


def open_plain(path: Path) -> Connection:
    """Stock sqlite3 with the same settings (benchmark baseline only; never used for tenant data)."""
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=True)
    _configure(connection)
    return connection
