"""Connector clients (bot -> Teams) whose HTTP goes through the egress guard.

botbuilder's default connector opens its own `requests` session. Ours hands the connector a msrest
driver over a `requests.Session` with `egress.requests_adapter.GuardedHTTPAdapter` mounted: the
service URL must be on the allowlist, environment proxies and CA bundles are ignored, and in dev the
Teams host is mapped to the dev tenant.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from botframework.connector import AsyncBfPipeline
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory, ServiceClientCredentialsFactory
from msrest.universal_http.async_requests import AsyncRequestsHTTPSender
from msrest.universal_http.requests import RequestHTTPSenderConfiguration

BOT_CONNECTOR_SCOPE = "https://api.botframework.com"
USER_AGENT = "aidizen-appliance"


class GuardedConnectorFactory(ConnectorFactory):
    """Builds a `ConnectorClient` per service URL on a fresh guarded session."""

    def __init__(
        self, app_id: str, credentials: ServiceClientCredentialsFactory, new_session: Callable[[], requests.Session]
    ) -> None:
        self.app_id, self._credentials, self._new_session = app_id, credentials, new_session

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        """A connector client for `service_url`, authenticated as the bot."""
        credentials = await self._credentials.create_credentials(
            self.app_id, audience or BOT_CONNECTOR_SCOPE, "", True
        )
        config = RequestHTTPSenderConfiguration()
        config.proxies.use_env_settings = False
        config.connection.timeout = 30
        driver = AsyncRequestsHTTPSender(config)
        driver.session = self._new_session()
        client = ConnectorClient(credentials, base_url=service_url, pipeline_type=AsyncBfPipeline, driver=driver)
        client.config.add_user_agent(USER_AGENT)
        return client
