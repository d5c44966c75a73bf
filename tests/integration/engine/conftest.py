"""One real SmolLM2 orchestrator for the whole session (loading and the prefix cost ~6 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.local import LocalOrchestrator, open_local
from appliance.engine.manifest import ModelEntry, model_entry
from tests.conftest import SHARED_MODELS_DIR


@pytest.fixture(scope="session")
def entry() -> ModelEntry:
    """The default model's manifest entry; the file must have been fetched (`make test` does)."""
    default = model_entry()
    if not default.path(SHARED_MODELS_DIR).is_file():
        pytest.fail(f"{default.file} is not in {SHARED_MODELS_DIR}: run `appliance models fetch` (make test does)")
    return default


@pytest.fixture(scope="session")
def orchestrator(entry: ModelEntry) -> Iterator[LocalOrchestrator]:
    """The real model with the full catalog and the llguidance backend, opened as `serve` opens it:
    with extra sequences for batched decoding (the one-at-a-time path runs on the same context)."""
    local = open_local(entry, SHARED_MODELS_DIR, DEFAULT_CATALOG, n_threads=2, batch_size=4)
    yield local
    local.close()
