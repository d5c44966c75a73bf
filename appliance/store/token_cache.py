"""The MSAL token cache, kept as a sealed secret in the store (`ports.TokenCacheStore`).

The cache holds refresh tokens: it is AES-GCM sealed like every other secret, inside SQLCipher, and
never written anywhere else.
"""

from __future__ import annotations

from typing import Protocol

from appliance.ports import TokenCacheStore

TOKEN_CACHE_SECRET = "msal.token_cache"


class SecretStore(Protocol):
    """What the token cache needs from the store (TenantStore provides it)."""

    def get_secret(self, name: str) -> str | None: ...

    def put_secret(self, name: str, value: str) -> None: ...


class StoreTokenCache:
    """msal's serialized token cache, sealed in the encrypted store."""

    def __init__(self, store: SecretStore) -> None:
        self._store = store

    def load_token_cache(self) -> str | None:
        """The serialized cache, or None if none was saved yet."""
        return self._store.get_secret(TOKEN_CACHE_SECRET)

    def save_token_cache(self, blob: str) -> None:
        """Replace the serialized cache."""
        self._store.put_secret(TOKEN_CACHE_SECRET, blob)


def as_port(cache: StoreTokenCache) -> TokenCacheStore:
    """`cache` as the port the Graph adapter expects (mypy checks that it conforms)."""
    return cache
