"""`TenantStore`: the one object the rest of the appliance uses to reach the encrypted database.

It owns its threading: one connection, used only by one dedicated worker thread. Synchronous
callers (the CLI) and asyncio tasks (the bot) both submit work to that thread, so a sqlite
connection is never shared across threads, and writes are serialized without lock juggling.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from appliance.config import Settings
from appliance.store import secrets as secret_repo
from appliance.store.connection import Connection, open_encrypted, rekey
from appliance.store.errors import StoreError
from appliance.store.keys import EnvKeyProvider, FileKeyProvider, KeyProvider
from appliance.store.migrations import migrate

T = TypeVar("T")
DB_NAME = "appliance.db"


def key_provider_for(settings: Settings) -> KeyProvider:
    """The configured key provider (default: a key file next to, not inside, $APPLIANCE_HOME)."""
    if settings.store.key_provider == "env":
        return EnvKeyProvider(settings.store.key_env)
    path = settings.store.key_file or settings.home.parent / f"{settings.home.name}.key"
    return FileKeyProvider(path, settings.home)


def database_path(settings: Settings) -> Path:
    """Where the encrypted database lives."""
    return settings.home / DB_NAME


class TenantStore:
    """The encrypted store: open it with a key provider, then `run` or `arun` repository functions."""

    def __init__(
        self, path: Path, keys: KeyProvider, *, create: bool = False, memory_security: bool = True
    ) -> None:
        if not create and not path.exists():
            raise StoreError(f"no store at {path}", hint="Run `appliance init` first.")
        self.path = path
        self.keys = keys
        self.memory_security = memory_security
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-store")
        key = keys.load()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._db: Connection = self._executor.submit(self._open, key).result()
        os.chmod(path, 0o600)  # encrypted anyway; still nobody else's business
        self.box = secret_repo.SecretBox(key)
        self.schema_version: int = self.run(migrate)

    def _open(self, key: bytes) -> Connection:
        return open_encrypted(self.path, key, self.keys.describe(), memory_security=self.memory_security)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> TenantStore:
        """Open the store of these settings (create=True makes the database if it is absent)."""
        return cls(
            database_path(settings),
            key_provider_for(settings),
            create=create,
            memory_security=settings.store.memory_security,
        )

    def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `work(db, *args)` on the store's thread and wait for its result."""
        return self._executor.submit(work, self._db, *args, **kwargs).result()

    async def arun(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like `run`, awaitable: the event loop is never blocked by the database."""
        return await asyncio.wrap_future(self._executor.submit(work, self._db, *args, **kwargs))

    # -- secrets and the token cache (the Protocol `ports.TokenCacheStore`) ---------------------
    def put_secret(self, name: str, value: str) -> None:
        """Store a secret, AES-GCM sealed inside the encrypted database."""
        self.run(secret_repo.put_secret, self.box, name, value)

    def get_secret(self, name: str) -> str | None:
        """A secret's value, or None."""
        return self.run(secret_repo.get_secret, self.box, name)

    def load_token_cache(self) -> str | None:
        """The serialized MSAL token cache, or None."""
        return self.get_secret(secret_repo.TOKEN_CACHE_SECRET)

    def save_token_cache(self, blob: str) -> None:
        """Replace the serialized MSAL token cache."""
        self.put_secret(secret_repo.TOKEN_CACHE_SECRET, blob)

    # -- key rotation and shutdown ------------------------------------------------------------
    def rotate_key(self, new_key: bytes) -> None:
        """Re-encrypt the database and every secret under `new_key`, then store the new key."""
        new_box = secret_repo.SecretBox(new_key)

        def work(db: Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                secret_repo.reseal_all(db, self.box, new_box)
                db.execute("COMMIT")
            except Exception:
                db.execute("ROLLBACK")
                raise
            rekey(db, new_key)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self.run(work)
        self.keys.replace(new_key)
        self.box = new_box

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close (idempotent)."""
        if self._executor is None:
            return

        def work(db: Connection) -> None:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()

        self._executor.submit(work, self._db).result()
        self._executor.shutdown()
        self._executor = None  # type: ignore[assignment]

    def __enter__(self) -> TenantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
