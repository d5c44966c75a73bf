"""Key providers: where the store's raw 256-bit key comes from.

- `FileKeyProvider`: a hex key file created by `appliance init`, mode 0600, outside the data dir.
- `EnvKeyProvider`: a hex key in an environment variable (a container's mounted secret).
A KMS provider implements the same Protocol (`load`, `describe`, `create`, `destroy`).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from appliance.store.errors import KeyFileError

KEY_BYTES = 32


class KeyProvider(Protocol):
    """Gives the raw key; `describe()` says where it comes from (safe to print: never the key)."""

    def load(self) -> bytes:
        """The 32-byte key."""
        ...

    def describe(self) -> str:
        """Where the key comes from, for error messages."""
        ...

    def create(self) -> bytes:
        """Make a new key (refuses to overwrite one)."""
        ...

    def replace(self, key: bytes) -> None:
        """Store a new key in place of the old one (rekey)."""
        ...

    def destroy(self) -> None:
        """Make the key unrecoverable (crypto-shred)."""
        ...


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyFileError(f"the key in {where} is not hex") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"the key in {where} has {len(key)} bytes, want {KEY_BYTES}")
    return key


class FileKeyProvider:
    """A key file with mode 0600 that must live outside the data directory."""

    def __init__(self, path: Path, data_dir: Path) -> None:
        self.path = path.expanduser().resolve()
        data = data_dir.expanduser().resolve()
        if self.path == data or data in self.path.parents:
            raise KeyFileError(f"key file {self.path} is inside the data directory {data}")

    def describe(self) -> str:
        return f"key file {self.path}"

    def load(self) -> bytes:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise KeyFileError(f"key file {self.path} does not exist") from None
        if stat.S_IMODE(mode) & 0o077:
            raise KeyFileError(
                f"key file {self.path} has mode {stat.S_IMODE(mode):o}; it must be 0600 (readable by its owner only)",
                hint=f"Run `chmod 600 {self.path}` if you trust who could read it, else rotate the key.",
            )
        return _parse(self.path.read_text(encoding="ascii", errors="replace"), str(self.path))

    def create(self) -> bytes:
        key = secrets.token_bytes(KEY_BYTES)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"key file {self.path} already exists; refusing to overwrite it") from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
        return key

    def replace(self, key: bytes) -> None:
        partial = self.path.with_suffix(".new")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)

    def destroy(self) -> None:
        if self.path.exists():
            size = self.path.stat().st_size
            with self.path.open("r+b") as handle:
                handle.write(secrets.token_bytes(size))
                handle.flush()
                os.fsync(handle.fileno())
            self.path.unlink()


class EnvKeyProvider:
    """A hex key in an environment variable (for containers with a mounted secret)."""

    def __init__(self, variable: str) -> None:
        self.variable = variable

    def describe(self) -> str:
        return f"environment variable {self.variable}"

    def load(self) -> bytes:
        value = os.environ.get(self.variable)
        if not value:
            raise KeyFileError(f"environment variable {self.variable} is not set")
        return _parse(value, self.describe())

    def create(self) -> bytes:
        raise KeyFileError(
            f"the key comes from {self.describe()}; the appliance does not create it",
            hint=f"Generate 32 random bytes as hex (e.g. `openssl rand -hex 32`) into {self.variable}.",
        )

    def replace(self, key: bytes) -> None:
        raise KeyFileError(
            f"cannot rotate a key held in {self.describe()}",
            hint="Rotate it in your secret manager, then run `appliance store rekey --new-key-env`.",
        )

    def destroy(self) -> None:
        os.environ.pop(self.variable, None)
