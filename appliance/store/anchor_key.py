"""The audit anchor key: an Ed25519 key that signs checkpoints of the audit chain, kept beside the store key.

It lives outside the data directory and outside the encrypted store (PEM, mode 0600, owned by the
appliance's user), so a copy of the store, or someone who holds only the store key, cannot sign a
checkpoint. Default path: beside the store key file, `<store key stem>.audit-anchor.pem`
(`[audit] anchor_key_file` overrides it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.config import Settings
from appliance.store.errors import KeyFileError
from appliance.store.tenant_store import default_key_file


def anchor_key_path(settings: Settings) -> Path:
    """Where the anchor key lives: `[audit] anchor_key_file`, else beside the store key file."""
    store_key = default_key_file(settings)
    path = (settings.audit.anchor_key_file or store_key.with_name(f"{store_key.stem}.audit-anchor.pem"))
    path = path.expanduser().resolve()
    data = settings.home.expanduser().resolve()
    if path == data or data in path.parents:
        raise KeyFileError(
            f"the audit anchor key {path} is inside the data directory {data}",
            hint="Set [audit] anchor_key_file to a path outside $APPLIANCE_HOME: whoever holds a copy of the data "
            "must not be able to sign checkpoints.",
        )
    return path


def create_anchor_key(path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 key to `path` (PKCS#8 PEM, O_EXCL, mode 0600); refuses to overwrite one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"the audit anchor key {path} already exists; refusing to overwrite it") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)  # whatever the umask was
    return key


def load_anchor_key(path: Path) -> Ed25519PrivateKey:
    """The anchor key at `path`; refuses a missing, non-regular, foreign-owned or group/world-readable file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(
            f"the audit anchor key {path} does not exist",
            hint="Run `appliance init` (it creates the key beside the store key).",
        ) from None
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode) or mode & 0o077 or info.st_uid != os.geteuid():
        raise KeyFileError(
            f"the audit anchor key {path} must be a regular file of this user with mode 0600 (it has {mode:04o})",
            hint=f"If nobody else could have read it, `chmod 600 {path}`; otherwise move it away and run "
            "`appliance init` for a new one (checkpoints signed by the old key stay verifiable with its public key).",
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise KeyFileError(f"the audit anchor key {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"the audit anchor key {path} is not an Ed25519 key")
    return key


def ensure_anchor_key(settings: Settings) -> tuple[Ed25519PrivateKey, bool]:
    """The anchor key, created first if there is none; and whether it was created now."""
    path = anchor_key_path(settings)
    if path.exists():
        return load_anchor_key(path), False
    return create_anchor_key(path), True


def anchor_public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The anchor key's public half, or None if this appliance has no anchor key yet."""
    path = anchor_key_path(settings)
    return load_anchor_key(path).public_key() if path.exists() else None
