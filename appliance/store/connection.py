"""Opening a SQLCipher database with a raw 256-bit key (no passphrase KDF on each open).

`open_encrypted` refuses a plaintext SQLite file and a wrong key with errors that name the key's
source, never the key. `open_plain` exists only so the benchmark can run identical code on stock
sqlite3; tenant data never goes through it.

Settings on every connection (the same for both, so the benchmark compares like with like):
WAL; `synchronous = FULL` (a committed EXECUTING state or audit record survives power loss, not only
a killed process); foreign keys; a busy timeout; temporary tables in memory (never an unencrypted temp
file); `secure_delete` (purged rows are overwritten, not left in free pages).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

import sqlcipher3

from appliance.store.errors import StoreError, StoreKeyError, StoreNotEncryptedError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
KEY_BYTES = 32
# What either driver raises (sqlcipher3 has its own exception classes, not sqlite3's).
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher3.Error)


class Cursor(Protocol):
    """The part of a DB-API cursor the repositories use."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A DB-API connection in autocommit mode (sqlcipher3's, or sqlite3's for the benchmark)."""

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ..., /) -> Cursor: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...


def is_plaintext_sqlite(path: Path) -> bool:
    """True if the file starts with the plain SQLite header (SQLCipher files look random)."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_HEADER
    except FileNotFoundError:
        return False


def configure(connection: Connection) -> None:
    """Apply the store's per-connection settings (see the module docstring)."""
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # pragma: no cover - only on file systems without shared memory
        raise StoreError(f"the store could not switch to WAL mode (got {mode})", hint="Use a local file system.")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA secure_delete = ON")


def open_encrypted(path: Path, key: bytes, key_source: str, *, memory_security: bool = True) -> Connection:
    """Open (or create) `path` as SQLCipher with the raw `key`; check the key on the first read.

    `key_source` says where the key came from ("key file /x/y.key"); errors name it, never the key.
    `memory_security` makes SQLCipher wipe (and lock) the memory it frees: keys and decrypted pages.
    It is process-wide and costs about 2x on small writes (see `appliance bench`); on by default.
    """
    if len(key) != KEY_BYTES:
        raise StoreKeyError(f"the {key_source} holds a {len(key)}-byte key; the store needs {KEY_BYTES} bytes")
    if is_plaintext_sqlite(path):
        raise StoreNotEncryptedError(f"{path} is an unencrypted SQLite database; refusing to open it")
    connection: Connection = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=True)
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
        connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        connection.execute(f"PRAGMA cipher_memory_security = {'ON' if memory_security else 'OFF'}")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        connection.close()
        raise StoreKeyError(f"{path} does not open with the {key_source}: wrong key, or not a store") from None
    configure(connection)
    return connection


@contextmanager
def transaction(connection: Connection) -> Iterator[Connection]:
    """`BEGIN IMMEDIATE` ... `COMMIT` (the write lock is taken up front), rolled back on any error.

    Inside an open transaction it joins that one, so repository functions compose into one atomic unit.
    """
    if connection.in_transaction:
        yield connection
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        with suppress(*DATABASE_ERRORS):  # SQLite may have rolled it back already (e.g. disk full)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def rekey(connection: Connection, new_key: bytes) -> None:
    """Re-encrypt every page under `new_key` (SQLCipher `PRAGMA rekey`, one atomic transaction)."""
    if len(new_key) != KEY_BYTES:
        raise StoreKeyError(f"a new key must be {KEY_BYTES} bytes, not {len(new_key)}")
    connection.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")


def checkpoint(connection: Connection) -> None:
    """Move the WAL into the database file and truncate the WAL."""
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def open_plain(path: Path) -> Connection:
    """Stock sqlite3 with the same settings (benchmark baseline only; never used for tenant data)."""
    connection: Connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=True)
    configure(connection)
    return connection
