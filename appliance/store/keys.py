"""Key providers: where the store's raw 256-bit key comes from, and where a rotated key goes.

- `FileKeyProvider`: a hex key file created by `appliance init`: mode 0600, owned by the appliance's
  user, outside the data directory. Anything looser is refused.
- `EnvKeyProvider`: a hex key in an environment variable (a container's mounted secret).
- A KMS provider implements the same Protocol (`key_provider.KeyProvider`): callers never ask which one they
  hold (only `tenant_store.key_provider_for` picks one, from the settings).

Rotation is two-phase so that a crash at any point loses nothing: `begin_rotation` stores the new
key beside the current one, the store re-encrypts, and `finish_rotation` makes the new key current.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from appliance.store.durable_files import fsync_directory as _fsync_directory
from appliance.store.errors import KeyFileError, KeyRotationError
from appliance.store.key_provider import KEY_BYTES, parse_hex_key


class FileKeyProvider:
    """A key file with mode 0600, owned by this user, that must live outside the data directory."""

    creates_keys = True
    destroys_key = True

    def __init__(self, path: Path, data_dir: Path) -> None:
        self.path = path.expanduser().resolve()
        data = data_dir.expanduser().resolve()
        if self.path == data or data in self.path.parents:
            raise KeyFileError(
                f"key file {self.path} is inside the data directory {data}",
                hint="Set [store] key_file to a path outside $APPLIANCE_HOME (a copy of the data must not carry "
                "its key).",
            )
        self.next_path = self.path.with_name(self.path.name + ".next")

    def describe(self) -> str:
        """`key file <path>`."""
        return f"key file {self.path}"

    def has_key(self) -> bool:
        """The key file exists."""
        return self.path.exists()

    def stored_files(self) -> list[Path]:
        """The key file and `<key file>.next` (a rotation's new key), those that exist."""
        return [path for path in (self.path, self.next_path) if path.exists()]

    def load(self) -> bytes:
        """Read the key, refusing a missing, non-regular, foreign-owned or group/world-accessible file."""
        return self._read(self.path)

    def create(self) -> bytes:
        """Write a new random key with O_EXCL and mode 0600."""
        key = secrets.token_bytes(KEY_BYTES)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            _write_new(self.path, key)
        except FileExistsError:
            raise KeyFileError(
                f"key file {self.path} already exists; refusing to overwrite it",
                hint="Keep the existing key (the store opens only with it), or move it away deliberately.",
            ) from None
        return key

    def begin_rotation(self, new_key: bytes) -> None:
        """Write `<key file>.next` (0600, fsynced); the current key file is untouched."""
        pending = self.pending_rotation()
        if pending is not None and pending != new_key:
            raise KeyRotationError(f"a different rotation is already pending in {self.next_path}")
        if pending is None:
            partial = self.path.with_name(self.path.name + ".partial")
            partial.unlink(missing_ok=True)
            _write_new(partial, new_key)
            os.replace(partial, self.next_path)
            _fsync_directory(self.path.parent)

    def pending_rotation(self) -> bytes | None:
        """The key in `<key file>.next`, if a rotation was begun and not finished."""
        return self._read(self.next_path) if self.next_path.exists() else None

    def finish_rotation(self) -> None:
        """Atomically rename `<key file>.next` over the key file."""
        if self.next_path.exists():
            os.replace(self.next_path, self.path)
            _fsync_directory(self.path.parent)

    def destroy(self) -> None:
        """Overwrite the key file (and any pending key) with random bytes, then remove it."""
        for path in (self.next_path, self.path):
            if path.exists():
                with path.open("r+b") as handle:
                    handle.write(secrets.token_bytes(max(path.stat().st_size, KEY_BYTES * 2)))
                    handle.flush()
                    os.fsync(handle.fileno())
                path.unlink()
        _fsync_directory(self.path.parent)

    def _read(self, path: Path) -> bytes:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise KeyFileError(f"key file {path} does not exist") from None
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"key file {path} has mode {mode:04o}; it must be 0600 (readable by its owner only)",
                hint=f"If nobody else could have read it, run `chmod 600 {path}`; otherwise rotate the key "
                "(`appliance store rekey`) after fixing the mode.",
            )
        if info.st_uid != os.geteuid():
            raise KeyFileError(
                f"key file {path} belongs to user id {info.st_uid}, not to this process (user id {os.geteuid()})",
                hint="Run the appliance as the user that owns the key file (or chown it to that user).",
            )
        return parse_hex_key(path.read_text(encoding="ascii", errors="replace"), f"key file {path}")


class EnvKeyProvider:
    """A hex key in an environment variable (for containers with a mounted secret).

    The appliance cannot write a secret manager, so a rotation takes the new key from a second
    variable (`next_variable`); the operator then stores that value under `variable`.
    """

    creates_keys = False
    destroys_key = False

    def __init__(self, variable: str, next_variable: str | None = None) -> None:
        self.variable = variable
        self.next_variable = next_variable

    def describe(self) -> str:
        """`environment variable <NAME>`."""
        return f"environment variable {self.variable}"

    def has_key(self) -> bool:
        """The variable is set."""
        return bool(os.environ.get(self.variable))

    def stored_files(self) -> list[Path]:
        """None: the key lives in the environment (its source is the operator's secret manager)."""
        return []

    def load(self) -> bytes:
        """The key from the variable."""
        value = os.environ.get(self.variable)
        if not value:
            raise KeyFileError(
                f"environment variable {self.variable} is not set",
                hint=f"Mount the store key (64 hex digits, e.g. from `openssl rand -hex 32`) as {self.variable}.",
            )
        return parse_hex_key(value, self.describe())

    def create(self) -> bytes:
        """Refused: the key comes from outside."""
        raise KeyFileError(
            f"the key comes from the {self.describe()}; the appliance does not create it",
            hint=f"Generate one with `openssl rand -hex 32`, store it in your secret manager, expose it as "
            f"{self.variable}, then run `appliance init` again.",
        )

    def begin_rotation(self, new_key: bytes) -> None:
        """Accept `new_key` only if it is what `next_variable` holds (so the operator has a copy)."""
        if self.pending_rotation() != new_key:
            raise KeyRotationError(
                f"cannot store a new key in the {self.describe()}",
                hint="Put the new key in a second variable and run `appliance store rekey --new-key-env NAME`.",
            )

    def pending_rotation(self) -> bytes | None:
        """The key in `next_variable`, if one is named and set."""
        if not self.next_variable or not os.environ.get(self.next_variable):
            return None
        return parse_hex_key(os.environ[self.next_variable], f"environment variable {self.next_variable}")

    def finish_rotation(self) -> None:
        """Nothing to do here: the operator moves the new key into `variable` in their secret manager."""

    def destroy(self) -> None:
        """Forget the key in this process (the secret manager's copy is the operator's to delete)."""
        os.environ.pop(self.variable, None)


def _write_new(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)  # whatever the umask was
    _fsync_directory(path.parent)
