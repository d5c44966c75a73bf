"""What the settings make: the enabled catalog, the model (local or BYO) on its own thread, the Graph
endpoints and the scopes the Aid asks consent for, and the egress allowlist.

Adapters (llama.cpp, msal, msgraph) are imported only inside the function that needs them, so a command
loads only what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from appliance.catalog import DEFAULT_CATALOG, Catalog
from appliance.config import Settings
from appliance.wiring.dev import DEV_CLIENT_ID, DEV_TENANT

if TYPE_CHECKING:
    from appliance.engine.local import LocalOrchestrator
    from appliance.engine.manifest import ModelEntry
    from appliance.engine.proposer import ThreadedProposer
    from appliance.engine.scheduler import BatchingProposer
    from appliance.graph.connect import GraphEndpoints


def enabled_catalog(settings: Settings) -> Catalog:
    """The catalog minus the tools this tenant disabled."""
    return DEFAULT_CATALOG.without(settings.catalog.disabled_tools)


def build_local_orchestrator(
    settings: Settings,
    *,
    backend: Literal["llguidance", "outlines"] | None = None,
    catalog: Catalog | None = None,
    batch_size: int = 1,
    entry: ModelEntry | None = None,
) -> LocalOrchestrator:
    """Verify and load the configured local model (or `entry`, e.g. one the operator added) with the
    catalog's grammar (default: the enabled tools). `batch_size` > 1 opens sequences for conversations
    decoded together (`serve` uses engine.batch_size). In dev set-ups only, the evaluated system prefix is
    kept next to the model for the next start (`.prefix-states/`, engine/prefix_state.py: the test suite
    and the demo start many dev appliances, each evaluated the same prefix for 30-40 s)."""
    from appliance.engine.local import open_local
    from appliance.engine.manifest import model_entry

    return open_local(
        entry or model_entry(settings.engine.model),
        settings.models_dir,
        catalog or enabled_catalog(settings),
        backend=backend or settings.engine.backend,
        context_tokens=settings.engine.context_tokens,
        n_threads=settings.engine.n_threads,
        n_gpu_layers=settings.engine.n_gpu_layers,
        cache_dir=settings.cache_dir,
        retrieved_examples=settings.engine.retrieved_examples,
        route_tools=settings.engine.route_tools,
        batch_size=batch_size,
        prefix_state_dir=settings.models_dir / ".prefix-states" if settings.graph.dev else None,
    )


def build_proposer(
    settings: Settings, catalog: Catalog, entry: ModelEntry | None = None
) -> ThreadedProposer | BatchingProposer:
    """The model the settings choose (the local one, or a BYO LLM), on its own thread.

    Local mode loads and verifies the model; with engine.batch_size > 1 concurrent turns are decoded
    together (`engine/scheduler.py`). BYO modes build the provider's SDK client on the egress guard
    (only its endpoint is reachable). Either way the audit record names the model.
    """
    from appliance.engine.proposer import ThreadedProposer

    if settings.llm.byo:
        from appliance.engine.byo import build_byo_orchestrator

        byo = build_byo_orchestrator(settings, catalog)
        return ThreadedProposer(byo, str(getattr(byo, "name", settings.llm.mode)))
    engine = settings.engine
    local = build_local_orchestrator(settings, catalog=catalog, batch_size=engine.batch_size, entry=entry)
    name = f"{local.entry.name} (sha256:{local.entry.sha256[:12]})"
    if engine.batch_size > 1:
        from appliance.engine.scheduler import BatchingProposer

        return BatchingProposer(local, name, queue_limit=engine.queue_limit)
    return ThreadedProposer(local, name)


def graph_permissions(settings: Settings) -> list[str]:
    """Every delegated scope the Aid asks consent for: what the enabled tools need, plus the directory
    reads the appliance itself does (the requester, their groups, the audit entries it joins to)."""
    from appliance.graph.scopes import DIRECTORY_PERMISSIONS

    return sorted(set(enabled_catalog(settings).permissions()) | set(DIRECTORY_PERMISSIONS))


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
    llm: list[str] = []
    if settings.llm.byo:
        from appliance.engine.byo import llm_destinations

        llm = llm_destinations(settings)
    entries = [graph.authority_host, graph_host, BOTFRAMEWORK_LOGIN, *settings.teams.service_urls, *llm,
               *settings.egress.allow]
    return list(dict.fromkeys(entry.rstrip("/") for entry in entries))
