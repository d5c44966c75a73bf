"""Assembling the Graph side: the egress allowlist, the msal identity and the gateway, for a real tenant
or (with a host map and the dev CA) for the embedded dev tenant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import GuardedTransport, tls_context
from appliance.graph.auth import AidIdentity
from appliance.graph.gateway import GRAPH_HOST, GraphGateway
from appliance.ports import TokenCacheStore

LOGIN = "https://login.microsoftonline.com"
GRAPH = f"https://{GRAPH_HOST}"


@dataclass(frozen=True)
class GraphEndpoints:
    """Where the Aid signs in and which Graph it calls, and (dev only) where those hosts really are."""

    tenant: str
    client_id: str
    authority_host: str = LOGIN
    graph_host: str = GRAPH
    ca_bundle: str | None = None
    host_map: Mapping[str, tuple[str, int]] | None = None

    @property
    def allowlist(self) -> Allowlist:
        """Entra login and Graph: the only destinations of the Graph side."""
        return Allowlist([self.authority_host, self.graph_host])


def dev_endpoints(tenant: str, client_id: str, address: tuple[str, int], ca_bundle: str) -> GraphEndpoints:
    """Endpoints for the dev tenant: real URLs, hosts mapped to `address`, trust only the dev CA."""
    hosts = {urlsplit(LOGIN).hostname: address, GRAPH_HOST: address}
    return GraphEndpoints(tenant, client_id, ca_bundle=ca_bundle, host_map={h: a for h, a in hosts.items() if h})


def connect(
    endpoints: GraphEndpoints, permissions: Iterable[str], cache: TokenCacheStore, *, graph_timeout: float = 30.0
) -> tuple[AidIdentity, GraphGateway]:
    """The Aid's identity (msal) and its Graph gateway (msgraph-sdk), both behind the egress guard."""
    tls = tls_context(endpoints.ca_bundle)
    msal_http = httpx.Client(
        transport=GuardedTransport(endpoints.allowlist, host_map=endpoints.host_map, verify=tls), timeout=30.0
    )
    identity = AidIdentity(
        authority=f"{endpoints.authority_host}/{endpoints.tenant}",
        client_id=endpoints.client_id,
        permissions=permissions,
        cache_store=cache,
        http_client=msal_http,
        validate_authority=endpoints.host_map is None,
    )
    gateway = GraphGateway(identity.access_token, allowlist=endpoints.allowlist, host_map=endpoints.host_map, tls=tls,
                           timeout=graph_timeout)
    return identity, gateway
