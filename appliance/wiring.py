"""The composition root: the only place concrete adapters meet. The CLI asks here for what it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from appliance.catalog import DEFAULT_CATALOG, Catalog
from appliance.config import Settings

if TYPE_CHECKING:  # adapters (llama.cpp, msal, msgraph) are imported only when a command needs them
    from appliance.engine.local import LocalOrchestrator
    from appliance.graph.connect import GraphEndpoints


def enabled_catalog(settings: Settings) -> Catalog:
    """The catalog minus the tools this tenant disabled."""
    return DEFAULT_CATALOG.without(settings.catalog.disabled_tools)


def build_local_orchestrator(
    settings: Settings, *, backend: Literal["llguidance", "outlines"] | None = None
) -> LocalOrchestrator:
    """Verify and load the configured local model with the catalog's grammar."""
    from appliance.engine.local import open_local
    from appliance.engine.manifest import model_entry

    return open_local(
        model_entry(settings.engine.model),
        settings.models_dir,
        enabled_catalog(settings),
        backend=backend or settings.engine.backend,
        context_tokens=settings.engine.context_tokens,
        n_threads=settings.engine.n_threads,
        n_gpu_layers=settings.engine.n_gpu_layers,
        cache_dir=settings.cache_dir,
    )


DEV_TENANT = "contoso.onmicrosoft.com"
DEV_CLIENT_ID = "aidizen-admin"


def graph_permissions(settings: Settings) -> list[str]:
    """Every delegated scope the enabled tools need (what the Aid asks consent for)."""
    return enabled_catalog(settings).permissions()


def graph_endpoints(settings: Settings) -> GraphEndpoints:
    """Real Entra/Graph endpoints, or (graph.dev) the dev tenant mapped in at the transport."""
    from appliance.graph.connect import GraphEndpoints, dev_endpoints

    graph = settings.graph
    if graph.dev:
        ca = graph.ca_bundle or settings.home / "devtenant" / "ca.pem"
        address = (settings.devtenant.host, settings.devtenant.port)
        return dev_endpoints(graph.tenant_id or DEV_TENANT, graph.client_id or DEV_CLIENT_ID, address, str(ca))
    if not graph.tenant_id or not graph.client_id:
        from appliance.errors import ConfigError

        raise ConfigError(
            "[graph] tenant_id and client_id are not set",
            hint="Run `appliance init --dev` for the dev tenant, or set them to your tenant's admin app registration.",
        )
    graph_host = graph.graph_base_url.split("/v1.0")[0]
    ca_bundle = str(graph.ca_bundle) if graph.ca_bundle else None
    return GraphEndpoints(graph.tenant_id, graph.client_id, graph.authority_host, graph_host, ca_bundle)


BOTFRAMEWORK_LOGIN = "https://login.botframework.com"


def egress_destinations(settings: Settings) -> list[str]:
    """Every destination the appliance may reach, as `https://host[:port]` entries (the egress allowlist).

    Entra login and Graph (per cloud), Bot Framework's token-signing keys, the Teams service URL hosts,
    and `[egress] allow`. BYO-LLM mode adds the chosen LLM endpoint; local mode adds nothing.
    `deploy/` renders the same list as network policy, and `appliance doctor` prints it.
    """
    graph = settings.graph
    graph_host = graph.graph_base_url.split("/v1.0")[0]
    entries = [graph.authority_host, graph_host, BOTFRAMEWORK_LOGIN, *settings.teams.service_urls,
               *settings.egress.allow]  # fmt: skip
    return list(dict.fromkeys(entry.rstrip("/") for entry in entries))


def sign_in_dev(settings: Settings, show: Callable[[str], None]) -> str:
    """Start the dev tenant (its persisted state), sign the Aid in by device code, keep the token cache in
    the encrypted store. Returns the Aid's UPN."""
    from appliance.devtenant import DevTenant
    from appliance.graph.connect import connect, dev_endpoints
    from appliance.store import TenantStore

    with (
        DevTenant(settings.home / "devtenant", host=settings.devtenant.host) as tenant,
        TenantStore.open(settings) as store,
    ):
        endpoints = dev_endpoints(DEV_TENANT, DEV_CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert))
        identity, _ = connect(endpoints, graph_permissions(settings), store.token_cache)
        return identity.sign_in_with_device_code(show)
