"""Errors of the encrypted store. Messages name the key's *source* (a file path, a variable), never the key."""

from __future__ import annotations

from appliance.errors import ApplianceError


class StoreError(ApplianceError):
    """Something is wrong with the encrypted store."""

    hint = "Check $APPLIANCE_HOME and the store key settings ([store] in appliance.toml)."


class StoreKeyError(StoreError):
    """The key does not open the database (wrong key, or not the key this store was created with)."""

    hint = "Use the key this store was created with (or restore it from your backup); nothing was changed."


class StoreNotEncryptedError(StoreError):
    """The database file is plain SQLite: the appliance never reads or writes an unencrypted store."""

    hint = "Move the file away; the appliance only opens SQLCipher databases it created (`appliance init`)."


class KeyFileError(StoreError):
    """The key file is missing, malformed, too widely readable, or inside the data directory."""

    hint = "Create the key with `appliance init`, keep it mode 0600 and outside $APPLIANCE_HOME."


class SchemaTooNewError(StoreError):
    """The database was written by a newer appliance; it is refused rather than damaged."""

    hint = "Run the appliance version that created this store (or newer)."
