"""Inbound authentication for `/api/messages`: botbuilder's JWT validation, made strict.

botbuilder validates the Bot Framework token (signature from the OpenID keys, issuer, audience = our
app id, the `serviceurl` claim, the `msteams` endorsement). Around it we add what a review of
botbuilder found missing: only the Bot Framework channel issuer is accepted (never Emulator tokens),
authentication can never be disabled, the token's lifetime is checked as the Bot Framework authentication page asks
(`require_lifetime`: `exp` must be there; botbuilder checks it only when present), and every failure,
whatever exception botbuilder raises, becomes `PermissionError` (the web layer answers 401).

`verify_token` needs only the header, so the web layer checks the token *before* it parses the body;
`authenticate_request` then binds the token to the parsed activity (its `serviceUrl`). Outbound
connectors come from `GuardedConnectorFactory`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ChannelValidation,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    SimpleCredentialProvider,
    UserTokenClient,
)

from appliance.teams.connector import GuardedConnectorFactory

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
TEAMS_CHANNEL = "msteams"
CLOCK_SKEW_SECONDS = 5 * 60
"""MicrosoftDocs/bot-docs articles/rest-api/bot-framework-rest-connector-authentication.md, "Connector to
Bot", step 4, requirement 5: "The token has not yet expired. Industry-standard clock-skew is 5 minutes."
(botbuilder's ChannelValidation uses the same 5 minutes as its clock tolerance.)"""
MAX_TOKEN_SECONDS = 12 * 3600
"""The longest remaining lifetime accepted. Channel tokens live about an hour (the page's example: nbf
1481049243, exp 1481053143, 65 minutes); capping it keeps every replay of an accepted token inside the
window in which `store/handled_activities.py` remembers activity ids (24 h)."""


def require_lifetime(claims: Mapping[str, Any], now: float, skew: float = CLOCK_SKEW_SECONDS) -> None:
    """Raise PermissionError unless the token has a numeric `exp` not more than `skew` in the past and not
    more than `MAX_TOKEN_SECONDS` ahead, and, if it has `nbf`, a numeric one not more than `skew` ahead."""
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise PermissionError("the token has no numeric exp claim")
    if expires + skew <= now:
        raise PermissionError("the token has expired")
    if expires - now > MAX_TOKEN_SECONDS:
        raise PermissionError("the token is valid for longer than a channel token can be")
    if "nbf" in claims:
        not_before = claims["nbf"]
        if isinstance(not_before, bool) or not isinstance(not_before, (int, float)):
            raise PermissionError("the token's nbf claim is not a number")
        if not_before - skew > now:
            raise PermissionError("the token is not valid yet")


class AidBotAuthentication(BotFrameworkAuthentication):
    """Public-cloud Bot Framework authentication for one bot, strict and with guarded connectors."""

    def __init__(self, credentials: ServiceClientCredentialsFactory, connectors: GuardedConnectorFactory,
                 app_id: str, clock: Callable[[], float] = time.time) -> None:
        self._inner = BotFrameworkAuthenticationFactory.create(credential_factory=credentials)
        self._connectors = connectors
        self._app = SimpleCredentialProvider(app_id, "")
        self._clock = clock

    async def verify_token(self, auth_header: str) -> ClaimsIdentity:
        """Check the bearer token alone (before the body is read as JSON): channel issuer, signature,
        audience, the `msteams` endorsement, lifetime. Raises PermissionError (never anything else)."""
        _require_channel_issuer(auth_header)
        try:
            identity: ClaimsIdentity = await ChannelValidation.authenticate_channel_token(
                auth_header, self._app, TEAMS_CHANNEL
            )
        except Exception as exc:  # botbuilder raises KeyError, IndexError, jwt errors... all mean 401
            raise PermissionError(f"token rejected: {type(exc).__name__}") from None
        require_lifetime(identity.claims, self._clock())
        return identity

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """Validate the request's token for this activity (its `serviceUrl` must be the token's
        `serviceurl` claim) or raise PermissionError (never anything else)."""
        _require_channel_issuer(auth_header)
        if not activity.service_url:
            raise PermissionError("the activity has no serviceUrl to check the token's serviceurl claim against")
        try:
            result: AuthenticateRequestResult = await self._inner.authenticate_request(activity, auth_header)
        except Exception as exc:  # botbuilder raises KeyError, IndexError, jwt errors... all mean 401
            raise PermissionError(f"token rejected: {type(exc).__name__}") from None
        require_lifetime(result.claims_identity.claims, self._clock())
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


def _require_channel_issuer(auth_header: str) -> None:
    if not auth_header or not auth_header.startswith("Bearer "):
        raise PermissionError("no Bot Framework bearer token")
    try:
        issuer = jwt.decode(auth_header[7:], options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError as exc:
        raise PermissionError(f"unreadable token: {type(exc).__name__}") from None
    if issuer != CHANNEL_ISSUER:
        raise PermissionError("token not issued by the Bot Framework channel service")
