"""The encrypted tenant store: SQLCipher (raw 256-bit key), migrations, repositories, retention.

Everything the appliance keeps about a tenant lives here; nothing else is written to disk. Open it
with `TenantStore.open(settings)` and call repository functions through `run` / `arun`.
"""

from appliance.store import (
    audit_records,
    conversations,
    key_value_settings,
    pending_actions,
    retention,
    secrets,
)
from appliance.store.tenant_store import TenantStore, database_path, default_key_file, key_provider_for
from appliance.store.token_cache import StoreTokenCache

__all__ = [
    "StoreTokenCache",
    "TenantStore",
    "audit_records",
    "conversations",
    "database_path",
    "default_key_file",
    "key_provider_for",
    "key_value_settings",
    "pending_actions",
    "retention",
    "secrets",
]
