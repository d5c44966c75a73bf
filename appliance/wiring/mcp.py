"""Assembling the MCP side (`[mcp] enabled = true`): the Entra token validator on a guarded HTTP client, the
SDK server over the shared `CatalogRequests`, and the endpoint on its own port of the running loop."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from appliance.catalog import Catalog
from appliance.config import Settings
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import AsyncGuardedTransport
from appliance.errors import ConfigError
from appliance.identity import EntraTokenPolicy, EntraTokenValidator
from appliance.orchestrator import CatalogRequests
from appliance.wiring.dev import DEV_MCP_APP_ID

HostMap = Mapping[str, tuple[str, int]]


@dataclass(frozen=True)
class McpIdentity:
    """The resolved settings of the MCP API: its app registration, tenant and public URL."""

    app_id: str
    audience_uri: str
    tenant_id: str
    public_url: str
    scope: str
    app_role: str
    authority_host: str

    @property
    def authorization_server(self) -> str:
        """The tenant's Entra v2 issuer (what the Protected Resource Metadata names)."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}/v2.0"

    @property
    def scope_uri(self) -> str:
        """The full scope a client requests, e.g. api://<app id>/Aid.Request."""
        return f"{self.audience_uri}/{self.scope}"


def mcp_identity(settings: Settings) -> McpIdentity:
    """The MCP API's identity from `[mcp]` (dev: the dev tenant's registration). Raises ConfigError."""
    mcp = settings.mcp
    app_id = mcp.app_id or (DEV_MCP_APP_ID if settings.graph.dev else "")
    tenant_id = mcp.tenant_id or settings.teams.allowed_tenant_id
    if not app_id or not tenant_id:
        raise ConfigError("[mcp] is enabled but app_id (or the tenant: [mcp] tenant_id / [teams] allowed_tenant_id) "
                          "is not set", hint="Register the MCP API (`appliance permissions` shows it) and set "
                          "[mcp] app_id to its application id.")
    audience = mcp.app_id_uri or f"api://{app_id}"
    scheme = "https" if (mcp.tls_cert or settings.teams.tls_cert) else "http"
    host = "localhost" if mcp.host in ("0.0.0.0", "127.0.0.1", "::", "") else mcp.host
    public_url = mcp.public_url or f"{scheme}://{host}:{mcp.port}/mcp"
    return McpIdentity(app_id, audience, tenant_id, public_url.rstrip("/"), mcp.scope, mcp.app_role,
                       settings.graph.authority_host)


def token_validator(identity: McpIdentity, host_map: HostMap | None, tls: ssl.SSLContext) -> tuple[
        EntraTokenValidator, httpx.AsyncClient]:
    """The validator, fetching the tenant's signing keys only from Entra (the egress allowlist's own entry)."""
    entra = Allowlist([identity.authority_host])
    client = httpx.AsyncClient(transport=AsyncGuardedTransport(entra, host_map=host_map, verify=tls), timeout=15.0)

    async def fetch_json(url: str) -> Any:
        response = await client.get(url)
        response.raise_for_status()
        return response.json()

    policy = EntraTokenPolicy(tenant_id=identity.tenant_id, audiences=(identity.audience_uri, identity.app_id),
                              scopes=frozenset({identity.scope}), roles=frozenset({identity.app_role}),
                              authority_host=identity.authority_host)
    return EntraTokenValidator(policy, fetch_json), client


@dataclass
class McpSide:
    """What the service keeps of the MCP side."""

    endpoint: Any
    http_client: httpx.AsyncClient

    @property
    def url(self) -> str:
        """Where agents connect."""
        return str(self.endpoint.url)

    async def stop(self) -> None:
        """Stop the endpoint and close the key-fetching client."""
        await self.endpoint.stop()
        await self.http_client.aclose()


async def start_mcp(settings: Settings, *, requests: CatalogRequests, catalog: Catalog, host_map: HostMap | None,
                    tls: ssl.SSLContext, version: str) -> McpSide:
    """Build and start the MCP endpoint on [mcp] host:port."""
    from appliance.mcp import AidCalls, EntraTokenVerifier, ResourceServer, build_app, build_server, serve_mcp

    identity = mcp_identity(settings)
    validator, client = token_validator(identity, host_map, tls)
    try:
        server = build_server(catalog, AidCalls(requests), version)
        resource = ResourceServer(identity.public_url, identity.authorization_server, (identity.scope_uri,))
        verifier = EntraTokenVerifier(validator.validate, identity.scope_uri)
        app, _ = build_app(server, verifier, resource, settings.mcp.host)
        mcp = settings.mcp
        endpoint = await serve_mcp(app, host=mcp.host, port=mcp.port, tls_cert=mcp.tls_cert or settings.teams.tls_cert,
                                   tls_key=mcp.tls_key or settings.teams.tls_key, url=identity.public_url)
    except BaseException:
        await client.aclose()
        raise
    return McpSide(endpoint, client)
