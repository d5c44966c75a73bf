"""Bot Framework's signing keys for botbuilder's JWT validation, fetched through the egress guard.

botbuilder keeps one `_OpenIdMetadata` per metadata URL in `JwtTokenExtractor.metadataCache` and
refreshes it with a blocking, unguarded `requests.get`. We put our own entry in that cache first: the
same class, refreshed with an awaitable fetch that goes through the egress allowlist (and, in dev,
the host map) without blocking the event loop. botbuilder's validation code itself is unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor
from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata

FetchJson = Callable[[str], Awaitable[Any]]
"""url -> parsed JSON (through the egress guard); raises on any failure."""

CHANNEL_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL


class GuardedOpenIdMetadata(_OpenIdMetadata):
    """botbuilder's key cache, refreshed through `fetch_json` instead of `requests.get`."""

    def __init__(self, url: str, fetch_json: FetchJson) -> None:
        super().__init__(url)
        self._fetch_json = fetch_json

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
