"""Bot Framework's signing keys for botbuilder's JWT validation, fetched through the egress guard.

botbuilder keeps one `_OpenIdMetadata` per metadata URL in `JwtTokenExtractor.metadataCache` and
refreshes it with a blocking, unguarded `requests.get`. We put our own entry in that cache first: the
same class, refreshed with an awaitable fetch that goes through the egress allowlist (and, in dev,
the host map) without blocking the event loop. botbuilder's validation code itself is unchanged.

Key rollover: Bot Framework publishes new signing keys at any time and asks bots to refresh at least daily
(MicrosoftDocs/bot-docs, articles/rest-api/bot-framework-rest-connector-authentication.md). botbuilder's own
"refetch on an unknown key id" never runs (its `_find` raises IndexError first), so every activity signed
with a new key was refused until the daily refresh. Here an unknown `kid` refetches the keys at once,
at most once per `UNKNOWN_KID_REFETCH`, one fetch at a time (a stream of forged key ids costs a fetch every few
seconds, no more).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata

FetchJson = Callable[[str], Awaitable[Any]]
"""url -> parsed JSON (through the egress guard); raises on any failure."""

CHANNEL_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
DAILY = timedelta(days=1)
UNKNOWN_KID_REFETCH = timedelta(seconds=5)


class GuardedOpenIdMetadata(_OpenIdMetadata):
    """botbuilder's key cache, refreshed through `fetch_json` instead of `requests.get`."""

    def __init__(self, url: str, fetch_json: FetchJson) -> None:
        super().__init__(url)
        self._fetch_json = fetch_json
        self._refreshing = asyncio.Lock()
        self.refetches = 0

    async def get(self, key_id: str) -> Any:
        """The key with this id: refreshed daily, and at once (rate-limited) when the id is not known."""
        if datetime.now() - self.last_updated > DAILY:
            await self._refresh()
        key = self._find(key_id)
        if key is None:
            async with self._refreshing:  # concurrent activities with the new key wait for one fetch
                key = self._find(key_id)
                if key is None and datetime.now() - self.last_updated > UNKNOWN_KID_REFETCH:
                    self.refetches += 1
                    await self._refresh()
                    key = self._find(key_id)
        return key

    def _find(self, key_id: str) -> Any:
        if not any(k.get("kid") == key_id for k in self.keys):
            return None
        return super()._find(key_id)

    async def _refresh(self) -> None:
        metadata = await self._fetch_json(self.url)
        keys = await self._fetch_json(str(metadata["jwks_uri"]))
        self.keys = list(keys["keys"])
        self.last_updated = datetime.now()


def install_channel_metadata(fetch_json: FetchJson) -> GuardedOpenIdMetadata:
    """Make botbuilder's channel-token validation fetch its keys through `fetch_json`."""
    metadata = GuardedOpenIdMetadata(CHANNEL_METADATA_URL, fetch_json)
    cache: dict[str, Any] = JwtTokenExtractor.metadataCache
    cache[CHANNEL_METADATA_URL] = metadata
    return metadata
