"""Errors of the encrypted store. Messages name the key's *source* (a file path, a variable), never the key."""

from __future__ import annotations

from appliance.errors import ApplianceError


class StoreError(ApplianceError):
    """Something is wrong with the encrypted store."""

    hint = "Check $APPLIANCE_HOME and the store key settings ([store] in appliance.toml)."


class StoreMissingError(StoreError):
    """There is no store yet at the configured place."""

    hint = "Run `appliance init` first (or point $APPLIANCE_HOME at the existing store)."


class StoreKeyError(StoreError):
    """The key does not open the database (wrong key, or not the key this store was created with)."""

    hint = "Use the key this store was created with (or restore it from your backup); nothing was changed."


class StoreNotEncryptedError(StoreError):
    """The database file is plain SQLite: the appliance never reads or writes an unencrypted store."""

    hint = "Move the file away; the appliance only opens SQLCipher databases it created (`appliance init`)."


class KeyFileError(StoreError):
    """The key is missing or malformed, or its file is too widely readable or inside the data directory."""

    hint = "Create the key with `appliance init`; keep the key file mode 0600, owned by you, outside $APPLIANCE_HOME."


class KeyRotationError(StoreError):
    """The key could not be rotated (the provider cannot store keys, or a rotation is half done)."""

    hint = "Nothing was lost: the store still opens with the key named above. Fix the cause, then run it again."


class SchemaTooNewError(StoreError):
    """The database was written by a newer appliance; it is refused rather than damaged."""

    hint = "Run the appliance version that created this store (or newer); the file was not modified."


class AuditAppendOnlyError(StoreError):
    """Something tried to change or delete an audit record outside retention."""

    hint = "Audit records are append-only; only `appliance retention purge` removes them, after their retention."


class SecretIntegrityError(StoreError):
    """A sealed secret failed authentication (tampered with, or sealed under another key)."""

    hint = "Set the secret again (e.g. rerun the sign-in that stores it); do not copy rows between stores."


class ActionTransitionError(StoreError):
    """A pending-action state change that the action lifecycle never allows (a bug in the caller)."""

    hint = "This is a bug in the caller; nothing was changed. Report it with the states named above."


class ExportError(StoreError):
    """The export could not be written."""

    hint = "Choose an empty directory you can write to; existing export files are never overwritten."
