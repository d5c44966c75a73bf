"""Mounting the direct audit API on the service's web app: the Entra token validator (keys fetched
through the egress guard) and the store behind `auditapi.AuditSource`."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx
from aiohttp import web

from appliance.auditapi import AuditApi, RecordFilter
from appliance.config import Settings
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import AsyncGuardedTransport
from appliance.errors import ConfigError
from appliance.identity import EntraTokenPolicy, EntraTokenValidator
from appliance.store import TenantStore, audit_records
from appliance.store.audit_pages import audit_page


class StoreAuditSource:
    """`auditapi.AuditSource` over the encrypted store."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    async def page(self, query: RecordFilter) -> tuple[list[dict[str, Any]], int | None]:
        """One page of records."""
        return await self.store.arun(audit_page, query)

    async def verify(self) -> dict[str, Any]:
        """The chain check."""
        report = await self.store.arun(audit_records.verify)
        return {"ok": report.ok, "checked": report.checked, "first_broken": report.first_broken,
                "reason": report.reason}


def audit_token_policy(settings: Settings) -> EntraTokenPolicy:
    """What a caller's token must be, from `[audit_api]` (tenant default: `[teams] allowed_tenant_id`)."""
    api = settings.audit_api
    tenant = api.tenant_id or settings.teams.allowed_tenant_id
    if not tenant:
        raise ConfigError("[audit_api] is enabled but no tenant id is known",
                          hint="Set [audit_api] tenant_id (or [teams] allowed_tenant_id) to your tenant's GUID.")
    audiences = tuple(a for a in (api.app_id_uri, api.client_id) if a)
    return EntraTokenPolicy(tenant_id=tenant, audiences=audiences, roles=frozenset({api.role}),
                            authority_host=settings.graph.authority_host)


def mount_audit_api(
    settings: Settings, store: TenantStore, app: web.Application, host_map: Mapping[str, tuple[str, int]] | None,
    tls: ssl.SSLContext,
) -> httpx.AsyncClient | None:
    """Add the audit API routes to `app` when `[audit_api] enabled`; returns the HTTP client to close."""
    if not settings.audit_api.enabled:
        return None
    policy = audit_token_policy(settings)
    client = httpx.AsyncClient(
        transport=AsyncGuardedTransport(Allowlist([settings.graph.authority_host]), host_map=host_map, verify=tls),
        timeout=15.0,
    )

    async def fetch_json(url: str) -> Mapping[str, Any]:
        response = await client.get(url)
        response.raise_for_status()
        document: Mapping[str, Any] = response.json()
        return document

    validator = EntraTokenValidator(policy, fetch_json)
    AuditApi(validator, StoreAuditSource(store), settings.audit_api.max_page).add_routes(app)
    return client
