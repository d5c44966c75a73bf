"""Assembling the Teams side: bot credentials, strict inbound auth, guarded connectors, the web app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter

from appliance import gate
from appliance.config import Settings
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import AsyncGuardedTransport
from appliance.egress.requests_adapter import guarded_session
from appliance.orchestrator import OutboxFor, TurnHandler
from appliance.ports import Outbox
from appliance.store.edge_ledger import EdgeStoreLedger
from appliance.store.ledger import StoreLedger
from appliance.teams.admission import Admission, SenderLimits
from appliance.teams.auth import AidBotAuthentication
from appliance.teams.bot import AidBot, reference_from_json
from appliance.teams.connector import GuardedConnectorFactory
from appliance.teams.credentials import AidBotCredentialsFactory, TokenFunction
from appliance.teams.metadata import CHANNEL_METADATA_URL, install_channel_metadata
from appliance.teams.outbox import ProactiveOutbox
from appliance.teams.web import MessagesEndpoint, Readiness, build_web_app

HostMap = Mapping[str, tuple[str, int]]


@dataclass
class TeamsConnection:
    """The Teams side's outbound half, built before the use cases so their outboxes are injected when they
    are constructed: the adapter, its inbound authentication and the proactive outboxes."""

    adapter: CloudAdapter
    auth: AidBotAuthentication
    outbox_for: OutboxFor
    metadata_client: httpx.AsyncClient


@dataclass
class TeamsSide:
    """What the service keeps of the Teams side."""

    adapter: CloudAdapter
    bot: AidBot
    app: web.Application
    outbox_for: OutboxFor
    metadata_client: httpx.AsyncClient


def connect_teams(
    settings: Settings, *, ledger: StoreLedger, token_for: TokenFunction, host_map: HostMap | None, tls: Any,
) -> TeamsConnection:
    """Bot credentials, strict inbound auth, guarded connectors, and the outbox of any stored conversation."""
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
    auth = AidBotAuthentication(credentials, connectors, teams.app_id)
    adapter = CloudAdapter(auth)

    async def outbox_for(conversation_ref: str) -> Outbox | None:
        stored = await ledger.load_reference(conversation_ref)
        return ProactiveOutbox(adapter, reference_from_json(stored), teams.app_id) if stored else None

    return TeamsConnection(adapter, auth, outbox_for, metadata_client)


def build_teams(
    settings: Settings, connection: TeamsConnection, *, ledger: StoreLedger, handler: TurnHandler,
    ready: Readiness,
) -> TeamsSide:
    """The bot, the edge's admission (sender, rate and conversation limits) and the aiohttp app over a
    `TeamsConnection`."""
    teams, adapter = settings.teams, connection.adapter
    bot = AidBot(adapter, teams.app_id, handler.handle_turn, ledger.save_reference, teams.max_concurrent_turns,
                 teams.waiting_turns_per_sender)

    async def is_tenant_user(object_id: str) -> bool:
        return gate.judge_sender(object_id, await handler.directory.person(object_id)).allowed

    limits = SenderLimits(teams.turns_per_minute, teams.conversations_per_sender)
    admission = Admission(EdgeStoreLedger(ledger.store), is_tenant_user, limits)
    endpoint = MessagesEndpoint(adapter=adapter, auth=connection.auth, bot=bot, admission=admission,
                                allowed_tenant_id=teams.allowed_tenant_id,
                                max_bytes=teams.max_activity_bytes)
    return TeamsSide(adapter, bot, build_web_app(endpoint, ready), connection.outbox_for, connection.metadata_client)
