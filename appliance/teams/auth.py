"""Inbound authentication for `/api/messages`: botbuilder's JWT validation, made strict.

botbuilder validates the Bot Framework token (signature from the OpenID keys, issuer, audience = our
app id, the `serviceurl` claim, the `msteams` endorsement). Around it we add what a review of
botbuilder found missing: only the Bot Framework channel issuer is accepted (never Emulator tokens), authentication can
never be disabled, and every failure, whatever exception botbuilder raises, becomes `PermissionError`
(the web layer answers 401). Outbound connectors come from `GuardedConnectorFactory`.
"""

from __future__ import annotations

from typing import Any

import jwt
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)

from appliance.teams.connector import GuardedConnectorFactory

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER


class AidBotAuthentication(BotFrameworkAuthentication):
    """Public-cloud Bot Framework authentication for one bot, strict and with guarded connectors."""

    def __init__(self, credentials: ServiceClientCredentialsFactory, connectors: GuardedConnectorFactory) -> None:
        self._inner = BotFrameworkAuthenticationFactory.create(credential_factory=credentials)
        self._connectors = connectors

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """Validate the request's token or raise PermissionError (never anything else)."""
        if not auth_header or not auth_header.startswith("Bearer "):
            raise PermissionError("no Bot Framework bearer token")
        try:
            issuer = jwt.decode(auth_header[7:], options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise PermissionError(f"unreadable token: {type(exc).__name__}") from None
        if issuer != CHANNEL_ISSUER:
            raise PermissionError("token not issued by the Bot Framework channel service")
        try:
            result: AuthenticateRequestResult = await self._inner.authenticate_request(activity, auth_header)
        except Exception as exc:  # botbuilder raises KeyError, IndexError, jwt errors... all mean 401
            raise PermissionError(f"token rejected: {type(exc).__name__}") from None
        result.connector_factory = self._connectors
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        """Streaming (websocket) connections are not offered."""
        raise PermissionError("streaming connections are not supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Connectors for proactive messages: the guarded factory."""
        return self._connectors

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """Not used (the Aid signs no user in through the bot); delegated to botbuilder."""
        return await self._inner.create_user_token_client(claims_identity)

    def get_originating_audience(self) -> str:
        """The Bot Connector audience."""
        return str(self._inner.get_originating_audience())
