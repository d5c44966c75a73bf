"""The running appliance (`appliance serve`): every adapter joined to the orchestrator, the web server,
recovery of interrupted actions at start-up, and the upkeep loop.

Start-up order: store -> ops log -> Graph (the Aid's token, the scope comparison, msgraph warmed) ->
model (verified, prefix evaluated) -> Teams (bot credentials, strict auth, guarded connectors) ->
recovery -> listening. Any failure stops start-up with an error that says what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiohttp import web

from appliance import ops_log
from appliance.audit import join_audit_entries
from appliance.config import Settings
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import GuardedTransport, tls_context
from appliance.engine.proposer import ThreadedProposer
from appliance.engine.scheduler import BatchingProposer
from appliance.errors import ConfigError
from appliance.graph.auth import scopes_in, upn_in
from appliance.graph.bot_certificate import bot_credential
from appliance.graph.bot_tokens import BotTokenSource
from appliance.graph.connect import GraphEndpoints, connect
from appliance.graph.directory import GraphDirectory
from appliance.graph.executors import GraphTools
from appliance.graph.scopes import admin_consent_url, compare_scopes
from appliance.orchestrator import AidPolicy, CatalogRequests, TurnHandler
from appliance.orchestrator.handler import utc_now
from appliance.store import TenantStore, retention, serve_lock
from appliance.store.anchor_key import ensure_anchor_key
from appliance.store.audit_anchor import AnchoredLedger
from appliance.wiring.audit_api import mount_audit_api
from appliance.wiring.catalog_check import check_catalog
from appliance.wiring.components import (
    build_proposer,
    egress_destinations,
    enabled_catalog,
    graph_endpoints,
    graph_permissions,
)
from appliance.wiring.dev import BOT_SECRET, dev_host_map
from appliance.wiring.mcp import McpSide, mcp_identity, start_mcp
from appliance.wiring.models import qualified_catalog
from appliance.wiring.observability import Observability, start_metrics, watch
from appliance.wiring.teams import TeamsSide, build_teams, connect_teams

APPLIANCE_VERSION = "0.1.0"
OPS_SALT = "ops.log_salt"
Step = Callable[[str], None]


@dataclass
class Service:
    """A started appliance; `stop()` shuts it down in order."""

    settings: Settings
    store: TenantStore
    proposer: ThreadedProposer | BatchingProposer
    handler: TurnHandler
    teams: TeamsSide
    runner: web.AppRunner
    url: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    observability: Observability | None = None
    lock: Any = None  # the serve lock (store/serve_lock.py), held until the process ends
    audit_api_client: httpx.AsyncClient | None = None
    mcp: McpSide | None = None

    async def stop(self) -> None:
        """Stop listening, let running turns finish (10 s), then close the model and the store."""
        for task in self.tasks:
            task.cancel()
        if self.observability is not None:
            await self.observability.stop()
        if self.mcp is not None:
            await self.mcp.stop()
        await self.runner.cleanup()
        await self.teams.bot.drain(10.0)
        await self.teams.metadata_client.aclose()
        if self.audit_api_client is not None:
            await self.audit_api_client.aclose()
        await asyncio.to_thread(self.proposer.close)
        await asyncio.to_thread(self.store.close)
        ops_log.event("service.stopped")


def _ops_salt(store: TenantStore) -> bytes:
    salt = store.get_secret(OPS_SALT)
    if salt is None:
        salt = secrets.token_hex(32)
        store.put_secret(OPS_SALT, salt)
    return bytes.fromhex(salt)


def _policy(settings: Settings, aid_upn: str) -> AidPolicy:
    gate, audit = settings.gate, settings.audit
    return AidPolicy(
        aid_upn=aid_upn, confirmation_minutes=gate.confirmation_minutes, requesters=tuple(gate.requesters),
        requester_groups=tuple(gate.requester_groups), reviewers=tuple(audit.reviewers),
        implementer=audit.implementer, implementer_name=audit.implementer_name,
        max_message_chars=settings.engine.max_message_chars, reconcile_after_seconds=gate.reconcile_after_seconds,
        two_person_tools=tuple(gate.two_person_tools), approvers=tuple(gate.approvers),
    )


def _endpoints(settings: Settings) -> tuple[GraphEndpoints, dict[str, tuple[str, int]] | None, ssl.SSLContext]:
    endpoints = graph_endpoints(settings)
    host_map = dev_host_map(settings) if settings.graph.dev else None
    return endpoints, host_map, tls_context(endpoints.ca_bundle)


def install_egress_guard(settings: Settings) -> int:
    """The process-wide backstop (`egress/socket_guard.py`): from now on this process can open
    connections only to the egress allowlist (and, in dev, the dev tenant's mapped address).
    Permanent for the process: `appliance serve` calls it before anything reaches out. Returns how many
    destinations are allowed."""
    from appliance.egress import socket_guard

    destinations = egress_destinations(settings)
    host_map = dev_host_map(settings) if settings.graph.dev else None
    socket_guard.install(Allowlist(destinations), host_map, listen_hosts=[settings.teams.host, settings.mcp.host])
    return len(destinations)


def _check_two_person(settings: Settings) -> None:
    catalog = enabled_catalog(settings)
    wrong = [tool for tool in settings.gate.two_person_tools if tool not in catalog or not catalog[tool].changes_state]
    if wrong:
        raise ConfigError(f"[gate] two_person_tools names {', '.join(wrong)}, which are not enabled state-changing "
                          "tools", hint="List only tools that change something (see `appliance catalog`).")
    if settings.gate.two_person_tools and not settings.gate.approvers:
        raise ConfigError("[gate] two_person_tools is set but [gate] approvers is empty: nothing could ever run",
                          hint="Add the UPNs of the people who give the second approval.")


def _check_teams(settings: Settings) -> None:
    teams = settings.teams
    if not teams.app_id or not teams.allowed_tenant_id:
        raise ConfigError(
            "[teams] app_id and allowed_tenant_id must be set: without an app id anyone could post to the bot",
            hint="Set them to the bot's app registration and your tenant id (or run `appliance init --dev`).",
        )
    if bool(teams.tls_cert) != bool(teams.tls_key):
        raise ConfigError("[teams] tls_cert and tls_key go together", hint="Set both, or neither (TLS at the ingress).")


async def start_service(settings: Settings, step: Step = lambda message: None) -> Service:
    """Start everything and listen on [teams] host:port. Raises ApplianceError with what to do.

    Nothing is opened before the configuration and the catalog pass their checks (`check_catalog`:
    every enabled tool has an executor and a worked example)."""
    _check_teams(settings)
    check_catalog(enabled_catalog(settings))
    if settings.mcp.enabled:
        mcp_identity(settings)  # a missing [mcp] setting stops start-up before anything reaches out
    lock = serve_lock.hold(settings.home)  # released by the kernel when this process ends, however it ends
    store = await asyncio.to_thread(TenantStore.open, settings)
    try:
        service = await _start(settings, store, step)
    except BaseException:
        await asyncio.to_thread(store.close)
        lock.close()
        raise
    service.lock = lock
    return service


async def _start(settings: Settings, store: TenantStore, step: Step) -> Service:
    log_path = ops_log.configure(settings.home / "logs", _ops_salt(store))
    step(f"ops log: {log_path} (no personal data; ids pseudonymised)")
    bot_secret = bot_credential(store, BOT_SECRET)  # the certificate when one is stored, else the client secret
    if not bot_secret:
        raise ConfigError("neither a certificate nor a client secret of the bot is in the store",
                          hint="Run `appliance teams certificate import PEM` or `appliance teams secret` "
                          "(or `appliance init --dev`).")
    _check_two_person(settings)
    endpoints, host_map, tls = _endpoints(settings)
    identity, gateway = connect(endpoints, graph_permissions(settings), store.token_cache)
    consented = await asyncio.to_thread(identity.consented_scopes)  # what an admin consented, asked afresh
    report = compare_scopes(enabled_catalog(settings), consented, strict=settings.graph.strict_scopes,
                            consent_url=admin_consent_url(endpoints.authority_host, endpoints.tenant,
                                                          endpoints.client_id),
                            accept_supersets=settings.graph.accept_supersets)
    for line in report.lines():
        step(f"scopes: {line}")
    claims = await asyncio.to_thread(identity.claims)  # one token read (and refresh, if due) off the loop
    granted = scopes_in(claims)
    catalog = enabled_catalog(settings)
    aid_upn = upn_in(claims)
    directory = GraphDirectory(gateway, aid_object_id=str(claims.get("oid") or "") or None)
    await directory.person(str(claims.get("oid", "")))  # warms msgraph's models (1-2 s, once)
    step(f"Graph: the Aid is signed in ({len(granted)} scopes granted); {len(catalog)} tools enabled")
    catalog, entry, model_mode = await asyncio.to_thread(qualified_catalog, settings, store, catalog)
    step(model_mode)
    ops_log.event("service.tools", tool=None, count=len(catalog))
    proposer = await asyncio.to_thread(build_proposer, settings, catalog, entry)
    step(f"model: {proposer.name} ({settings.llm.mode} mode)")
    anchor_key, created = await asyncio.to_thread(ensure_anchor_key, settings)
    ledger = AnchoredLedger(store, anchor_key)  # each audit record is followed by a signed checkpoint
    bot_tokens = BotTokenSource(
        app_id=settings.teams.app_id, credential=bot_secret,
        authority=f"{endpoints.authority_host}/{settings.teams.app_tenant_id or settings.teams.allowed_tenant_id}",
        http_client=httpx.Client(transport=GuardedTransport(Allowlist([endpoints.authority_host]), host_map=host_map,
                                                            verify=tls), timeout=30.0),
        validate_authority=host_map is None,
    )
    await asyncio.to_thread(bot_tokens.token)  # fail fast on a wrong secret; msal caches the token
    health: dict[str, Any] = {"model": True, "store": True, "token": True}
    if settings.mcp.enabled:
        health["mcp"] = "starting"  # /readyz says 503 until the MCP endpoint listens too

    async def ready() -> dict[str, Any]:
        return dict(health)

    # The Teams side's outbound half first, so the use cases get their outboxes when they are built.
    connection = connect_teams(settings, ledger=ledger, token_for=bot_tokens.token, host_map=host_map, tls=tls)
    tools, policy = GraphTools(gateway), _policy(settings, aid_upn)
    requests = CatalogRequests(catalog=catalog, ledger=ledger, tools=tools, directory=directory, policy=policy,
                               clock=utc_now, outbox_for=connection.outbox_for)
    handler = TurnHandler(catalog=catalog, proposer=proposer, ledger=ledger, tools=tools, directory=directory,
                          policy=policy, outbox_for=connection.outbox_for, requests=requests)
    teams = build_teams(settings, connection, ledger=ledger, handler=handler, ready=ready)
    audit_api_client = mount_audit_api(settings, store, teams.app, host_map, tls)
    if audit_api_client is not None:
        step(f"audit API: GET /api/audit/records and /api/audit/verify for holders of {settings.audit_api.role}")
    report_recovery = await handler.executor.recover(teams.outbox_for)
    step(f"recovery: {len(report_recovery.done)} done, {len(report_recovery.failed)} failed, "
         f"{len(report_recovery.resumed)} resumed, {len(report_recovery.waiting)} waiting for Graph, "
         f"{len(report_recovery.unknown)} unknown")
    head = await ledger.checkpoint()
    step(f"audit anchor: checkpoint of record {head.count} signed{' (new anchor key)' if created else ''}")
    runner = web.AppRunner(teams.app, access_log=None)
    await runner.setup()
    server_tls = None
    if settings.teams.tls_cert and settings.teams.tls_key:
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(settings.teams.tls_cert, settings.teams.tls_key)
    site = web.TCPSite(runner, settings.teams.host, settings.teams.port, ssl_context=server_tls)
    await site.start()
    scheme = "https" if server_tls else "http"
    url = f"{scheme}://{settings.teams.host}:{settings.teams.port}/api/messages"
    service = Service(settings, store, proposer, handler, teams, runner, url, health=health)
    service.audit_api_client = audit_api_client
    service.observability = await start_metrics(settings, store, catalog, lambda: handler.executor.in_flight)
    if service.observability.url:
        step(f"metrics: {service.observability.url}")
    if settings.mcp.enabled:
        try:
            service.mcp = await start_mcp(settings, requests=requests, catalog=catalog, host_map=host_map, tls=tls,
                                          version=APPLIANCE_VERSION)
        except BaseException:
            await runner.cleanup()
            raise
        health["mcp"] = True
        step(f"MCP: listening on {service.mcp.url} (Entra tokens for {mcp_identity(settings).scope_uri})")
    service.tasks.append(asyncio.create_task(_upkeep(service, identity.access_token)))
    service.tasks.append(asyncio.create_task(watch(service.observability, store, settings, identity.claims)))
    ops_log.event("service.started", tool=None, count=len(catalog))
    step(f"listening on {url}")
    return service


def _touch(db: Any) -> None:
    db.execute("SELECT count(*) FROM pending_actions").fetchone()


async def _probe(check: Callable[[], Any], failure: str) -> bool | str:
    """True if `check()` completes, else a short reason (for /readyz)."""
    try:
        await check()
        return True
    except Exception as exc:
        return f"{failure}: {type(exc).__name__}"


async def _upkeep(service: Service, token: Callable[[], str]) -> None:
    """Every few seconds: expire cards, settle interrupted actions, join audit entries, check the token;
    once a day: retention."""
    executor, ledger = service.handler.executor, service.handler.ledger
    last_purge = datetime.min.replace(tzinfo=UTC)
    while True:
        await asyncio.sleep(service.settings.gate.upkeep_seconds)
        try:
            expired = await executor.expire_due(service.teams.outbox_for)
            settled = await executor.settle_interrupted(service.teams.outbox_for)
            joined = await join_audit_entries(ledger, service.handler.directory)
            redelivered = await executor.redeliver(service.teams.outbox_for)
            service.health["token"] = await _probe(lambda: asyncio.to_thread(token), "token unavailable")
            service.health["store"] = await _probe(lambda: service.store.arun(_touch), "store unavailable")
            if datetime.now(UTC) - last_purge > timedelta(days=1):
                await service.store.arun(retention.purge, service.settings.store, audit=service.settings.audit,
                                         operator="appliance serve (daily upkeep)")
                last_purge = datetime.now(UTC)
            reconciled = len(settled.done) + len(settled.failed) + len(settled.unknown)
            if service.observability is not None:
                service.observability.metrics.upkeep_done(time.time())
            if expired or joined or reconciled or redelivered:
                ops_log.event("upkeep", expired=expired, joined=joined, reconciled=reconciled, count=redelivered)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # upkeep must never die; the next round tries again
            with contextlib.suppress(Exception):
                ops_log.event("upkeep.failed", error=type(exc).__name__)
