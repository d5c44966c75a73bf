"""`Pkcs11KeyProvider`: the store key wrapped by a key that never leaves a hardware security module.

Envelope encryption: the store key (the SQLCipher data key, 32 random bytes drawn from the HSM) is kept
only wrapped, in a small JSON file (`[store] key_file`, default `<APPLIANCE_HOME>.key.wrapped`). The
wrapping key is an AES-256 key generated inside the PKCS#11 token, `SENSITIVE` and not `EXTRACTABLE`:
it cannot be read out, only used. Wrapping is AES-GCM (CKM_AES_GCM) inside the token, with the
wrapping key's label as associated data, so a wrapped file moved to another key fails to open.

- `load()` unwraps the store key in the HSM (the token must be present and the PIN right).
- `create()` makes the wrapping key (if the token has none under the label) and a new store key.
- A store key rotation (`appliance store rekey`) is two-phase like the file provider's: the new store
  key is wrapped into `<file>.next` first, made current once the store is re-encrypted.
- `rotate_wrapping_key()` makes a new wrapping key (label `<label>-<n+1>`), re-wraps the store key
  under it, replaces the wrapped file atomically and only then destroys the old wrapping key. The
  store itself is not touched (its key is unchanged).
- `destroy()` destroys the wrapping key(s) in the HSM, then shreds the wrapped files: a crypto-shred
  that no copy of the disk can undo.

What it holds: only the wrapped key file on disk; the wrapping key stays in the HSM. Where: the token
named by `[store] pkcs11_token_label` behind the module `[store] pkcs11_module`. Destroyable: yes.
The token's user PIN comes from the environment variable `[store] pkcs11_pin_env` (a mounted secret).
Tested against SoftHSM2 (Debian `softhsm2`), a real PKCS#11 token.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import NoSuchKey, NoSuchToken, PinIncorrect, PKCS11Error
from pkcs11.mechanisms import GCMParams

from appliance.store.durable_files import fsync_directory
from appliance.store.errors import KeyFileError, KeyRotationError

KEY_BYTES = 32
FORMAT = "aidizen-wrapped-key-v1"
AAD_PREFIX = b"aidizen store key v1|"


@dataclass(frozen=True)
class Pkcs11Config:
    """Where the wrapping key lives: the PKCS#11 module, the token, the key's base label, the PIN's variable."""

    module: Path
    token_label: str
    key_label: str = "aidizen-store-kek"
    pin_env: str = "APPLIANCE_PKCS11_PIN"


class Pkcs11KeyProvider:
    """Implements the store's `KeyProvider` with envelope encryption under an HSM-held wrapping key."""

    creates_keys = True  # the wrapping key in the HSM and a new store key, wrapped
    destroys_key = True  # destroying the HSM key makes every wrapped copy useless

    def __init__(self, config: Pkcs11Config, wrapped_file: Path, data_dir: Path) -> None:
        self.config = config
        self.path = wrapped_file.expanduser().resolve()
        data = data_dir.expanduser().resolve()
        if self.path == data or data in self.path.parents:
            raise KeyFileError(f"the wrapped key file {self.path} is inside the data directory {data}",
                               hint="Set [store] key_file to a path outside $APPLIANCE_HOME.")
        self.next_path = self.path.with_name(self.path.name + ".next")

    @property
    def location(self) -> str:
        """Where the key material is (safe to print)."""
        return f"PKCS#11 token {self.config.token_label!r} ({self.config.module}); wrapped key {self.path}"

    def describe(self) -> str:
        """`PKCS#11 key <label> on token <token> (wrapped key <file>)`."""
        label = self._read(self.path)["kek"] if self.path.exists() else self.config.key_label + "-1"
        return f"PKCS#11 key {label} on token {self.config.token_label} (wrapped key {self.path})"

    # -- the KeyProvider protocol (store/key_provider.py) ---------------------------------------------
    def has_key(self) -> bool:
        """A wrapped store key is in place (unwrapping it still needs the token and its PIN)."""
        return self.path.exists()

    def stored_files(self) -> list[Path]:
        """The wrapped key file and a pending rotation's, those that exist (the wrapping key is in the HSM)."""
        return [path for path in (self.path, self.next_path) if path.exists()]

    def load(self) -> bytes:
        """Unwrap the current store key in the HSM."""
        return self._unwrap(self._read(self.path))

    def create(self) -> bytes:
        """Make the wrapping key (if absent) and a new store key; refuses to replace an existing one."""
        if self.path.exists():
            raise KeyFileError(f"the wrapped key file {self.path} already exists; refusing to overwrite it",
                               hint="Keep it (the store opens only with it), or move it away deliberately.")
        label = self.config.key_label + "-1"
        with self._session() as session:
            kek = self._key(session, label, create=True)
            key = session.generate_random(KEY_BYTES * 8)
            envelope = self._wrap(session, kek, label, key)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_atomic(self.path, envelope, exclusive=True)
        return key

    def begin_rotation(self, new_key: bytes) -> None:
        """Wrap `new_key` into `<file>.next` (the current wrapped key is untouched)."""
        pending = self.pending_rotation()
        if pending is not None and pending != new_key:
            raise KeyRotationError(f"a different rotation is already pending in {self.next_path}")
        if pending is None:
            label = self._read(self.path)["kek"]
            with self._session() as session:
                envelope = self._wrap(session, self._key(session, label), label, new_key)
            _write_atomic(self.next_path, envelope)

    def pending_rotation(self) -> bytes | None:
        """The new store key of a rotation that was begun and not finished."""
        return self._unwrap(self._read(self.next_path)) if self.next_path.exists() else None

    def finish_rotation(self) -> None:
        """Make the pending wrapped key the current one (atomic rename)."""
        if self.next_path.exists():
            os.replace(self.next_path, self.path)
            fsync_directory(self.path.parent)

    def destroy(self) -> None:
        """Destroy every wrapping key named by the wrapped files in the HSM, check the token holds none of them
        any more, then shred the files (kept, with an error, if the HSM still holds a key)."""
        labels = {self._read(p)["kek"] for p in (self.path, self.next_path) if p.exists()}
        with self._session() as session:
            for label in labels:
                for key in session.get_objects({Attribute.LABEL: label, Attribute.CLASS: ObjectClass.SECRET_KEY}):
                    key.destroy()
            left = sorted(label for label in labels if any(session.get_objects(
                {Attribute.LABEL: label, Attribute.CLASS: ObjectClass.SECRET_KEY})))
        if left:
            raise KeyFileError(f"token {self.config.token_label!r} still holds the wrapping key(s) {', '.join(left)}",
                               hint="Destroy them with the HSM's own tools (the wrapped key files are kept so the "
                               "labels stay known), then run `appliance offboard` again.")
        for path in (self.next_path, self.path):
            if path.exists():
                with path.open("r+b") as handle:
                    handle.write(secrets.token_bytes(max(path.stat().st_size, 64)))
                    handle.flush()
                    os.fsync(handle.fileno())
                path.unlink()
        fsync_directory(self.path.parent)

    # -- wrapping-key rotation ----------------------------------------------------------------------
    def rotate_wrapping_key(self) -> str:
        """New wrapping key in the HSM, the store key re-wrapped under it, the old wrapping key destroyed.
        Returns the new key's label. A crash before the old key's destruction leaves it unused, never needed."""
        if self.next_path.exists():
            raise KeyRotationError("a store key rotation is pending; run `appliance store rekey` to finish it first")
        current = self._read(self.path)
        old_label = current["kek"]
        generation = int(old_label.rsplit("-", 1)[-1]) if old_label.rsplit("-", 1)[-1].isdigit() else 1
        new_label = f"{self.config.key_label}-{generation + 1}"
        with self._session() as session:
            key = self._unwrap_in(session, current)
            new_kek = self._key(session, new_label, create=True)
            _write_atomic(self.path, self._wrap(session, new_kek, new_label, key))
            for old in session.get_objects({Attribute.LABEL: old_label, Attribute.CLASS: ObjectClass.SECRET_KEY}):
                old.destroy()
        return new_label

    # -- the HSM ------------------------------------------------------------------------------------
    def _session(self) -> Any:
        pin = os.environ.get(self.config.pin_env)
        if not pin:
            raise KeyFileError(f"environment variable {self.config.pin_env} (the PKCS#11 token's user PIN) is not set",
                               hint=f"Mount the token's user PIN as {self.config.pin_env}.")
        try:
            token = pkcs11.lib(str(self.config.module)).get_token(token_label=self.config.token_label)
            return token.open(user_pin=pin, rw=True)
        except NoSuchToken:
            raise KeyFileError(f"no PKCS#11 token labelled {self.config.token_label!r} behind {self.config.module}",
                               hint="Check [store] pkcs11_token_label and that the HSM is reachable.") from None
        except PinIncorrect:
            raise KeyFileError(f"the PIN in {self.config.pin_env} is wrong for token {self.config.token_label!r}",
                               hint="Fix the PIN (repeated wrong PINs may lock the token).") from None
        except (PKCS11Error, RuntimeError, OSError) as exc:
            raise KeyFileError(f"the PKCS#11 module {self.config.module} could not be used: {type(exc).__name__}",
                               hint="Check [store] pkcs11_module (the vendor's .so) and the HSM's health.") from None

    def _key(self, session: Any, label: str, *, create: bool = False) -> Any:
        try:
            return session.get_key(label=label, key_type=KeyType.AES, object_class=ObjectClass.SECRET_KEY)
        except NoSuchKey:
            if not create:
                raise KeyFileError(f"the wrapping key {label!r} is not on token {self.config.token_label!r}",
                                   hint="It was destroyed or this is another token: the store cannot be opened "
                                   "without it (restore the HSM from its own backup).") from None
        template = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.TOKEN: True}
        return session.generate_key(KeyType.AES, 256, label=label, store=True, template=template)

    def _wrap(self, session: Any, kek: Any, label: str, key: bytes) -> dict[str, str]:
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"a store key must be {KEY_BYTES} bytes, not {len(key)}")
        nonce = session.generate_random(96)
        wrapped = kek.encrypt(key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, _aad(label), 128))
        return {"format": FORMAT, "token": self.config.token_label, "kek": label, "mechanism": "CKM_AES_GCM",
                "nonce": nonce.hex(), "wrapped": bytes(wrapped).hex()}

    def _unwrap(self, envelope: dict[str, str]) -> bytes:
        with self._session() as session:
            return self._unwrap_in(session, envelope)

    def _unwrap_in(self, session: Any, envelope: dict[str, str]) -> bytes:
        label = envelope["kek"]
        kek = self._key(session, label)
        try:
            key = bytes(kek.decrypt(bytes.fromhex(envelope["wrapped"]), mechanism=Mechanism.AES_GCM,
                                    mechanism_param=GCMParams(bytes.fromhex(envelope["nonce"]), _aad(label), 128)))
        except PKCS11Error:
            raise KeyFileError(f"the wrapped store key does not unwrap under {label!r} (tampered with, or another "
                               "token's key)", hint="Restore the wrapped key file from your backup.") from None
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"the unwrapped store key has {len(key)} bytes, not {KEY_BYTES}")
        return key

    def _read(self, path: Path) -> dict[str, str]:
        try:
            envelope = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyFileError(f"the wrapped key file {path} does not exist",
                               hint="Run `appliance init` to create the store key in the HSM.") from None
        except ValueError:
            raise KeyFileError(f"{path} is not a wrapped key file") from None
        if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
            raise KeyFileError(f"{path} is not a wrapped key file ({FORMAT})")
        return {key: str(value) for key, value in envelope.items()}


def _aad(label: str) -> bytes:
    return AAD_PREFIX + label.encode("utf-8")


def _write_atomic(path: Path, envelope: dict[str, str], *, exclusive: bool = False) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(envelope, handle)
        handle.flush()
        os.fsync(handle.fileno())
    if exclusive and path.exists():
        partial.unlink()
        raise KeyFileError(f"{path} appeared while it was being created; refusing to overwrite it")
    os.replace(partial, path)
    fsync_directory(path.parent)
