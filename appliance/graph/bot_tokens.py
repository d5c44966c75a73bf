"""Tokens for the bot (the chat app registration) to call the Bot Connector service.

The bot authenticates as its own app registration (client credentials with a client secret, or a
certificate: `bot_certificate.py`) against
its tenant's Entra authority, through msal on the egress-guarded httpx client, so these calls obey the
allowlist and, in dev, reach the dev tenant. msal caches the token and renews it before expiry.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import msal

from appliance.graph.errors import GraphAuthError

BOT_CONNECTOR_SCOPE = "https://api.botframework.com/.default"


class BotTokenSource:
    """Client-credentials tokens for one bot app registration (thread-safe)."""

    def __init__(
        self, *, app_id: str, credential: str | dict[str, str], authority: str, http_client: httpx.Client,
        validate_authority: bool = True,
    ) -> None:
        """`credential`: the client secret, or msal's certificate form (`BotCertificate.msal_credential`)."""
        self.app_id = app_id
        self.uses_certificate = isinstance(credential, dict)
        self._lock = threading.Lock()
        self._app = msal.ConfidentialClientApplication(
            app_id, client_credential=credential, authority=authority, http_client=_TextForm(http_client),
            instance_discovery=validate_authority,
        )

    def token(self, scope: str = BOT_CONNECTOR_SCOPE) -> str:
        """A valid access token for `scope` (cached by msal; renewed when close to expiry)."""
        scope = scope if scope.endswith("/.default") else scope.rstrip("/") + "/.default"
        with self._lock:
            result = self._app.acquire_token_for_client(scopes=[scope])
        if "access_token" not in result:
            description = str(result.get("error_description", result.get("error", "unknown error")))
            raise GraphAuthError(
                f"Entra refused the bot's token: {description.splitlines()[0]}",
                hint="Check [teams] app_id, app_tenant_id and the bot's credential: "
                + ("the certificate uploaded to the app registration must be the one in the store "
                   "(`appliance teams certificate show`)." if self.uses_certificate
                   else "its client secret (`appliance teams secret`)."),
            )
        return str(result["access_token"])


class _TextForm:
    """msal's HTTP client with form values as text: msal hands its client assertion over as bytes, which
    requests (msal's default client) sends as the text it is but httpx as the literal `b'...'`, an assertion
    Entra cannot parse. Every other call passes through unchanged."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        """POST with any bytes form value decoded to text."""
        if isinstance(data, dict):
            data = {name: value.decode() if isinstance(value, bytes) else value for name, value in data.items()}
        return self._client.post(url, params=params, data=data, headers=headers, **kwargs)

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        """GET, unchanged."""
        return self._client.get(url, params=params, headers=headers, **kwargs)

    def close(self) -> None:
        """Close the wrapped client."""
        self._client.close()
