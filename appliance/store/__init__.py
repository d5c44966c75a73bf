"""The encrypted tenant store: SQLCipher (raw 256-bit key), migrations, repositories, retention.

Everything the appliance keeps lives here; nothing else about a tenant is written to disk.
"""

from appliance.store.tenant_store import TenantStore, database_path, key_provider_for

__all__ = ["TenantStore", "database_path", "key_provider_for"]
