"""An in-memory `ports.TokenCacheStore` for unit and integration tests (the product uses the store)."""

from __future__ import annotations


class MemoryTokenCache:
    """Keeps the serialized msal cache in a string; counts saves."""

    def __init__(self) -> None:
        self.blob: str | None = None
        self.saves = 0

    def load_token_cache(self) -> str | None:
        return self.blob

    def save_token_cache(self, blob: str) -> None:
        self.blob = blob
        self.saves += 1
