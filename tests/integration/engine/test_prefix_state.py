"""The dev-only prefix state (engine/prefix_state.py): a prefix restored from the file an identical
evaluation saved is the same prefix, bit for bit; a damaged or foreign file is never used; only a dev
set-up keeps one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.config import Settings
from appliance.engine import local
from appliance.engine.local import open_local
from appliance.engine.manifest import ModelEntry
from appliance.engine.prefix_state import evaluate_prefix
from appliance.engine.runtime import LlamaRuntime
from appliance.wiring.components import build_local_orchestrator
from tests.conftest import SHARED_MODELS_DIR

PREFIX = "You are the Aid. You help the helpdesk of Contoso with Microsoft 365 accounts. " * 3
SUFFIX = "Please reset the password of sarah.lin@contoso.com"


def _runtime(entry: ModelEntry) -> LlamaRuntime:
    return LlamaRuntime(SHARED_MODELS_DIR / entry.file, n_ctx=512, n_threads=2)


def _after(runtime: LlamaRuntime, suffix: list[int]) -> np.ndarray:
    """The logits after the prefix and `suffix` (copied: the runtime's view is reused)."""
    return np.array(runtime.decode(suffix), copy=True)


def test_a_restored_prefix_gives_bit_identical_logits_in_a_fresh_context(entry: ModelEntry, tmp_path: Path) -> None:
    evaluated = _runtime(entry)
    prefix, suffix = evaluated.tokenize(PREFIX, add_special=True), evaluated.tokenize(SUFFIX)
    assert evaluate_prefix(evaluated, prefix, entry.sha256, tmp_path) is False  # no file yet: evaluated, saved
    assert len(list(tmp_path.glob("*.kv"))) == 1
    expected = _after(evaluated, suffix)
    evaluated.close()
    restored = _runtime(entry)
    assert evaluate_prefix(restored, prefix, entry.sha256, tmp_path) is True
    assert restored.n_past == len(prefix)
    assert np.array_equal(_after(restored, suffix), expected)
    restored.truncate(len(prefix))  # the prefix cache works as after an evaluation: the same turn again
    assert np.array_equal(_after(restored, suffix), expected)
    restored.close()


def test_a_damaged_file_is_evaluated_again_and_replaced(entry: ModelEntry, tmp_path: Path) -> None:
    runtime = _runtime(entry)
    prefix = runtime.tokenize(PREFIX, add_special=True)
    evaluate_prefix(runtime, prefix, entry.sha256, tmp_path)
    (path,) = tmp_path.glob("*.kv")
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert evaluate_prefix(runtime, prefix, entry.sha256, tmp_path) is False
    assert runtime.n_past == len(prefix)
    assert evaluate_prefix(runtime, prefix, entry.sha256, tmp_path) is True  # rewritten from the evaluation
    runtime.close()


def test_another_prefix_or_model_never_uses_the_file(entry: ModelEntry, tmp_path: Path) -> None:
    runtime = _runtime(entry)
    prefix = runtime.tokenize(PREFIX, add_special=True)
    evaluate_prefix(runtime, prefix, entry.sha256, tmp_path)
    assert evaluate_prefix(runtime, prefix[:-1], entry.sha256, tmp_path) is False
    assert evaluate_prefix(runtime, prefix, "0" * 64, tmp_path) is False
    assert len(list(tmp_path.glob("*.kv"))) == 3
    runtime.close()


def test_the_orchestrator_restores_its_prefix(entry: ModelEntry, tmp_path: Path) -> None:
    """The wiring in LocalOrchestrator (the logits are compared above, on a short prefix)."""
    catalog = DEFAULT_CATALOG.without([t for t in DEFAULT_CATALOG if t != "reply"])  # the shortest real prefix
    first = open_local(entry, SHARED_MODELS_DIR, catalog, n_threads=2, prefix_state_dir=tmp_path)
    assert not first.prefix_restored
    first.close()
    second = open_local(entry, SHARED_MODELS_DIR, catalog, n_threads=2, prefix_state_dir=tmp_path)
    assert second.prefix_restored and second.runtime.n_past == len(second.prefix_tokens)
    second.close()


@pytest.mark.parametrize("dev", [True, False])
def test_only_a_dev_set_up_keeps_the_prefix_next_to_the_model(
    dev: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(local, "open_local", lambda *args, **kwargs: seen.update(kwargs))
    settings = Settings.model_validate({"home": tmp_path, "graph": {"dev": dev}})
    build_local_orchestrator(settings)
    assert seen["prefix_state_dir"] == (settings.models_dir / ".prefix-states" if dev else None)
