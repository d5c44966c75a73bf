"""What the appliance asks of wherever its store key lives (`KeyProvider`), and the key's text format.

Everything outside `store/keys.py` (the providers) and `tenant_store.key_provider_for` (which picks one
from the settings) uses only this Protocol; an import-linter contract keeps it so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from appliance.store.errors import KeyFileError

KEY_BYTES = 32


class KeyProvider(Protocol):
    """Everything the appliance asks of where its store key lives: the key itself, where it is held,
    whether the appliance can make one, and whether destroying it here makes it unrecoverable.

    Callers use only this Protocol (never the concrete class): `describe()` is safe to print (never the key).
    """

    @property
    def creates_keys(self) -> bool:
        """True if `create()` can make a key here (a key file); False when the key comes from outside."""
        ...

    @property
    def destroys_key(self) -> bool:
        """True if `destroy()` leaves the key unrecoverable; False when it lives outside the appliance (a
        secret manager), whose copy its owner must delete."""
        ...

    def describe(self) -> str:
        """Where the key comes from, for messages ("key file /srv/aidizen.key")."""
        ...

    def has_key(self) -> bool:
        """True if a current key is in place (it may still be refused when loaded: mode, owner, format)."""
        ...

    def stored_files(self) -> list[Path]:
        """The files on this machine that hold the key or a pending rotation's key, as they exist now
        ([] for a key held outside the appliance)."""
        ...

    def load(self) -> bytes:
        """The current 32-byte key."""
        ...

    def create(self) -> bytes:
        """Make and store a new random key; refuses to overwrite an existing one."""
        ...

    def begin_rotation(self, new_key: bytes) -> None:
        """Durably keep `new_key` beside the current key (phase 1 of a rotation)."""
        ...

    def pending_rotation(self) -> bytes | None:
        """The new key of a rotation that has begun but not finished, if any."""
        ...

    def finish_rotation(self) -> None:
        """Make the pending key the current one (phase 2 of a rotation)."""
        ...

    def destroy(self) -> None:
        """Make the key unrecoverable from this provider (crypto-shred)."""
        ...


def parse_hex_key(text: str, where: str) -> bytes:
    """32 bytes from 64 hex digits (surrounding whitespace ignored); the error names `where`, not the text."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyFileError(f"the {where} does not hold a hex key") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"the {where} holds {len(key)} bytes; the store needs a {KEY_BYTES}-byte key")
    return key
