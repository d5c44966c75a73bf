"""The composition root: the only place concrete adapters meet. The CLI asks here for what it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from appliance.catalog import DEFAULT_CATALOG, Catalog
from appliance.config import Settings

if TYPE_CHECKING:  # the engine (llama.cpp) is imported only when a command needs it
    from appliance.engine.local import LocalOrchestrator


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
