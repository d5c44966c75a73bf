"""Creating a tenant's store: its key (if the provider makes keys) and the migrated database."""

from __future__ import annotations

from appliance.config import Settings
from appliance.store.anchor_key import anchor_key_path, ensure_anchor_key
from appliance.store.errors import KeyFileError
from appliance.store.tenant_store import TenantStore, database_path, key_provider_for


def initialize_store(settings: Settings) -> list[str]:
    """Create the key (if the provider makes keys and there is none) and the migrated store; say what was done.

    Idempotent: an existing key and store are kept, and the store is migrated to the current schema.
    Never makes a new key for an existing store (that store could then never be opened).
    """
    steps = []
    keys = key_provider_for(settings)
    database = database_path(settings)
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if keys.creates_keys and not keys.has_key():
        if database.exists():
            raise KeyFileError(
                f"{database} exists but its {keys.describe()} does not; refusing to make a new key that could "
                "never open it",
                hint="Restore the key file from your backup (or set [store] key_file to where it is); to start "
                "over instead, move the old store away first.",
            )
        keys.create()
        steps.append(f"created {keys.describe()} (mode 0600, outside {settings.home})")
    with TenantStore.open(settings, create=True) as store:
        steps.append(f"store {store.path} ready (schema version {store.schema_version}, key: {keys.describe()})")
    _, created = ensure_anchor_key(settings)
    if created:
        steps.append(f"created the audit anchor key {anchor_key_path(settings)} (mode 0600, beside the store key)")
    return steps
