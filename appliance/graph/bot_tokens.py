"""Tokens for the bot (the chat app registration) to call the Bot Connector service.

The bot authenticates as its own app registration (client credentials with a client secret, or a
certificate: `bot_certificate.py`) against
its tenant's Entra authority, through msal on the egress-guarded httpx client, so these calls obey the
allowlist and, in dev, reach the dev tenant. msal caches the token and renews it before expiry.
"""

from __future__ import annotations

import threading

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
            app_id, client_credential=credential, authority=authority, http_client=http_client,
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
