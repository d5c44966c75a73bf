"""botbuilder credentials for the Aid's bot, backed by a token function that wiring supplies.

botbuilder asks its `ServiceClientCredentialsFactory` for `AppCredentials` whenever it builds a
connector client; ours hand out tokens from `graph.bot_tokens.BotTokenSource` (msal on the egress
guard), so no botbuilder code talks to Entra on its own. Authentication is never disabled and only
the configured app id is valid.
"""

from __future__ import annotations

from collections.abc import Callable

from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

TokenFunction = Callable[[str], str]
"""scope -> access token"""


class AidBotCredentials(AppCredentials):
    """`AppCredentials` whose token comes from `token_for(scope)`."""

    def __init__(self, app_id: str, oauth_scope: str, token_for: TokenFunction) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self._token_for = token_for

    def get_access_token(self, force_refresh: bool = False) -> str:
        """A Bot Connector token for this app."""
        return self._token_for(self.oauth_scope)


class AidBotCredentialsFactory(ServiceClientCredentialsFactory):
    """Only `app_id` is valid; authentication can never be switched off."""

    def __init__(self, app_id: str, token_for: TokenFunction) -> None:
        if not app_id:
            raise ValueError("the bot needs an app id: without one botbuilder would accept anonymous requests")
        self.app_id = app_id
        self._token_for = token_for

    async def is_valid_app_id(self, app_id: str) -> bool:
        """True only for the configured bot."""
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        """Never: every inbound request must carry a valid Bot Framework token."""
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        """Credentials for the configured bot (anything else is refused)."""
        if app_id != self.app_id:
            raise PermissionError(f"no credentials for app id {app_id!r}")
        return AidBotCredentials(app_id, oauth_scope or "https://api.botframework.com/.default", self._token_for)
