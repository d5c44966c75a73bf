"""Crypto-shred: destroy the key, overwrite the database files, remove them. Each step is idempotent."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from appliance.store.key_provider import KeyProvider

SIDE_FILES = ("", "-wal", "-shm", "-journal")


def shred_store(database: Path, keys: KeyProvider) -> list[str]:
    """Destroy the key first (every byte is unreadable from then on), then the files. Returns steps done."""
    done = []
    keys.destroy()
    done.append(f"destroyed the {keys.describe()}")
    for suffix in SIDE_FILES:
        path = Path(f"{database}{suffix}")
        if not path.exists():
            continue
        size = path.stat().st_size
        with path.open("r+b") as handle:
            remaining = size
            while remaining > 0:
                chunk = min(remaining, 1 << 20)
                handle.write(secrets.token_bytes(chunk))
                remaining -= chunk
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
        done.append(f"overwrote and removed {path.name}")
    return done
