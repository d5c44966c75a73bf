"""`TenantStore`: the one object the rest of the appliance uses to reach the encrypted database.

It owns its threading: one connection, opened and used only by one dedicated worker thread.
Synchronous callers (the CLI) use `run(fn, ...)`; asyncio tasks (the bot) `await arun(fn, ...)`.
Both hand the repository function to that thread, so a sqlite connection is never shared across
threads and writes are serialized without locks; the event loop is never blocked by the database.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from appliance.config import Settings
from appliance.store import secrets as secret_repo
from appliance.store.connection import Connection, checkpoint, open_encrypted, rekey, transaction
from appliance.store.errors import StoreKeyError, StoreMissingError
from appliance.store.key_provider import KeyProvider
from appliance.store.keys import EnvKeyProvider, FileKeyProvider
from appliance.store.migrations import migrate
from appliance.store.token_cache import StoreTokenCache

T = TypeVar("T")
DB_NAME = "appliance.db"
TABLES = ("conversation_turns", "pending_actions", "audit_records", "secrets", "settings", "conversation_references",
          "handled_activities")


def key_provider_for(settings: Settings, *, new_key_env: str | None = None) -> KeyProvider:
    """The configured key provider. Default: the key file `<APPLIANCE_HOME>.key`, beside (not inside) the data dir.

    `new_key_env` names the variable holding the new key of a rotation (environment-variable keys only).
    """
    if settings.store.key_provider == "env":
        return EnvKeyProvider(settings.store.key_env, next_variable=new_key_env)
    if settings.store.key_provider == "pkcs11":
        from appliance.store.pkcs11_keys import Pkcs11Config, Pkcs11KeyProvider

        store = settings.store
        wrapped = store.key_file or settings.home.parent / f"{settings.home.name}.key.wrapped"
        config = Pkcs11Config(store.pkcs11_module, store.pkcs11_token_label, store.pkcs11_key_label,
                              store.pkcs11_pin_env)
        return Pkcs11KeyProvider(config, wrapped, settings.home)
    return FileKeyProvider(default_key_file(settings), settings.home)


def key_file_at(path: Path, settings: Settings) -> KeyProvider:
    """A key file of its own (a backup's key): 0600, owned by this user, outside $APPLIANCE_HOME."""
    return FileKeyProvider(path, settings.home)


def default_key_file(settings: Settings) -> Path:
    """`[store] key_file`, or `<APPLIANCE_HOME>.key` next to the data directory."""
    return settings.store.key_file or settings.home.parent / f"{settings.home.name}.key"


def database_path(settings: Settings) -> Path:
    """Where the encrypted database lives."""
    return settings.home / DB_NAME


class TenantStore:
    """The encrypted store: open it with a key provider, then `run` / `arun` repository functions."""

    def __init__(self, path: Path, keys: KeyProvider, *, create: bool = False, memory_security: bool = True) -> None:
        if not create and not path.exists():
            raise StoreMissingError(f"no store at {path}")
        self.path, self.keys, self.memory_security = path, keys, memory_security
        key, pending = keys.load(), keys.pending_rotation()  # key errors surface before any thread starts
        self._worker: int | None = None
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tenant-store", initializer=self._mark_worker
        )
        try:
            self._db, opened_with = self._executor.submit(self._open, key, pending).result()
            self.box = secret_repo.SecretBox(opened_with)
            if pending is not None:  # a rotation was interrupted: finish it (nothing is lost either way)
                self._complete_rotation(key, pending)
            self.schema_version: int = self.run(migrate)
        except BaseException:
            if hasattr(self, "_db"):
                self._executor.submit(self._db.close).result()
            self._stop()
            raise

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False, new_key_env: str | None = None) -> TenantStore:
        """Open the store of these settings (`create=True` makes the database if it is absent)."""
        return cls(
            database_path(settings),
            key_provider_for(settings, new_key_env=new_key_env),
            create=create,
            memory_security=settings.store.memory_security,
        )

    def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(connection, *args, **kwargs)` on the store's thread and return its result."""
        if threading.get_ident() == self._worker:  # called from inside another `run`: already on the thread
            return work(self._db, *args, **kwargs)
        return self._live().submit(work, self._db, *args, **kwargs).result()

    async def arun(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like `run`, awaitable: the event loop goes on while the store's thread works."""
        return await asyncio.wrap_future(self._live().submit(work, self._db, *args, **kwargs))

    # -- secrets and the token cache ------------------------------------------------------------
    def put_secret(self, name: str, value: str) -> None:
        """Store a secret, AES-GCM sealed inside the encrypted database."""
        self.run(lambda db: secret_repo.put_secret(db, self.box, name, value))  # box read on the store's thread

    def get_secret(self, name: str) -> str | None:
        """A secret's value, or None."""
        return self.run(lambda db: secret_repo.get_secret(db, self.box, name))

    def delete_secret(self, name: str) -> bool:
        """Remove a secret; True if it existed."""
        return self.run(secret_repo.delete_secret, name)

    @property
    def token_cache(self) -> StoreTokenCache:
        """The MSAL token cache (implements `ports.TokenCacheStore`)."""
        return StoreTokenCache(self)

    def row_counts(self) -> dict[str, int]:
        """Rows per table (never contents)."""

        def work(db: Connection) -> dict[str, int]:
            return {table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in TABLES}

        return self.run(work)

    # -- key rotation -----------------------------------------------------------------------------
    def rotate_key(self, new_key: bytes) -> None:
        """Re-encrypt the database and every secret under `new_key`, then make it the current key.

        Two-phase: the provider keeps the new key beside the old one first, so a crash at any point
        leaves a store that the next open finishes rotating. Stop `serve` before rotating: another
        process holding the old key cannot read the store afterwards.
        """
        old_key = self.keys.load()
        self.keys.begin_rotation(new_key)
        self._complete_rotation(old_key, new_key)

    def _complete_rotation(self, old_key: bytes, new_key: bytes) -> None:
        old_box, new_box = secret_repo.SecretBox(old_key), secret_repo.SecretBox(new_key)
        opened_with_new = self.box.key_id == new_box.key_id

        def work(db: Connection) -> None:
            with transaction(db):  # secrets first: under either key they stay readable
                secret_repo.reseal_all(db, {old_box.key_id: old_box, new_box.key_id: new_box}, new_box)
            if not opened_with_new:
                rekey(db, new_key)  # one atomic transaction over every page
            checkpoint(db)
            self.box = new_box  # on the store's thread: no secret is sealed under the old key after this

        self.run(work)
        self.keys.finish_rotation()

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Checkpoint the WAL into the database file and close (idempotent)."""
        if self._executor is None:
            return

        def work(db: Connection) -> None:
            try:
                checkpoint(db)
            finally:
                db.close()

        try:
            self._executor.submit(work, self._db).result()
        finally:
            self._stop()

    def __enter__(self) -> TenantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> TenantStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    def _mark_worker(self) -> None:
        self._worker = threading.get_ident()

    def _live(self) -> ThreadPoolExecutor:
        if self._executor is None:
            raise StoreMissingError(
                f"the store {self.path} is closed", hint="This is a bug: it was used after close()."
            )
        return self._executor

    def _stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _open(self, key: bytes, pending: bytes | None) -> tuple[Connection, bytes]:
        """Open with the current key; after an interrupted rotation maybe only the pending key opens it."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():  # create it 0600 so the -wal and -shm files SQLite adds are 0600 too
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        source = self.keys.describe()
        try:
            return open_encrypted(self.path, key, source, memory_security=self.memory_security), key
        except StoreKeyError:
            if pending is None:
                raise
            try:
                return open_encrypted(self.path, pending, source, memory_security=self.memory_security), pending
            except StoreKeyError:
                pass
        raise StoreKeyError(f"{self.path} opens neither with the {source} nor with its unfinished rotation's new key")
