"""Assembling the Teams side: bot credentials, strict inbound auth, guarded connectors, the web app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter

from appliance.config import Settings
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import AsyncGuardedTransport
from appliance.egress.requests_adapter import guarded_session
from appliance.orchestrator import OutboxFor, TurnHandler
from appliance.ports import Outbox
from appliance.store.ledger import StoreLedger
from appliance.teams.auth import AidBotAuthentication
from appliance.teams.bot import AidBot, reference_from_json
from appliance.teams.connector import GuardedConnectorFactory
from appliance.teams.credentials import AidBotCredentialsFactory, TokenFunction
from appliance.teams.metadata import CHANNEL_METADATA_URL, install_channel_metadata
from appliance.teams.outbox import ProactiveOutbox
from appliance.teams.web import MessagesEndpoint, Readiness, build_web_app

HostMap = Mapping[str, tuple[str, int]]


@dataclass
class TeamsSide:
    """What the service keeps of the Teams side."""

    adapter: CloudAdapter
    bot: AidBot
    app: web.Application
    outbox_for: OutboxFor
    metadata_client: httpx.AsyncClient


def build_teams(
    settings: Settings, *, ledger: StoreLedger, handler: TurnHandler, token_for: TokenFunction,
    host_map: HostMap | None, tls: Any, ready: Readiness,
) -> TeamsSide:
    """The bot, its inbound authentication and outbound connectors, and the aiohttp app."""
    teams = settings.teams
    botframework = Allowlist([CHANNEL_METADATA_URL.split("/v1/")[0]])
    metadata_client = httpx.AsyncClient(
        transport=AsyncGuardedTransport(botframework, host_map=host_map, verify=tls), timeout=15.0
    )

    async def fetch_json(url: str) -> Any:
        response = await metadata_client.get(url)
        response.raise_for_status()
        return response.json()

    install_channel_metadata(fetch_json)
    credentials = AidBotCredentialsFactory(teams.app_id, token_for)
    service_hosts = Allowlist([url.rstrip("/") for url in teams.service_urls])
    connectors = GuardedConnectorFactory(
        teams.app_id, credentials, lambda: guarded_session(service_hosts, host_map=host_map, tls=tls)
    )
    auth = AidBotAuthentication(credentials, connectors)
    adapter = CloudAdapter(auth)
    bot = AidBot(adapter, teams.app_id, handler.handle_turn, ledger.save_reference, teams.max_concurrent_turns)
    endpoint = MessagesEndpoint(adapter=adapter, auth=auth, bot=bot, allowed_tenant_id=teams.allowed_tenant_id,
                                max_bytes=teams.max_activity_bytes)

    async def outbox_for(conversation_ref: str) -> Outbox | None:
        stored = await ledger.load_reference(conversation_ref)
        return ProactiveOutbox(adapter, reference_from_json(stored), teams.app_id) if stored else None

    return TeamsSide(adapter, bot, build_web_app(endpoint, ready), outbox_for, metadata_client)
