"""The operator's production model (issue 12): `models add` pins its sha256 in the encrypted store and
reads its GGUF metadata, refusing a file without a usable chat template; a file changed afterwards
never loads; `models qualify` stores its result with the model's hash and `serve` reads it back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest

from appliance.config import load_settings
from appliance.engine.manifest import model_entry, verify_model
from appliance.errors import ModelIntegrityError
from appliance.store import TenantStore
from appliance.store.operator_models import get_model, latest_qualification
from appliance.wiring.components import enabled_catalog
from appliance.wiring.models import model_entry_for, qualification_verdict, qualified_catalog
from tests.conftest import SHARED_MODELS_DIR


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR)}
    return subprocess.run([sys.executable, "-m", "appliance", *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert _cli("init", home=home).returncode == 0
    return home


def _template_free_gguf(path: Path) -> Path:
    """A real (tiny) GGUF file whose metadata has no tokenizer.chat_template."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("No Template 1M")
    writer.add_context_length(2048)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_model_without_a_chat_template_is_refused(home: Path, tmp_path: Path) -> None:
    model = _template_free_gguf(tmp_path / "no-template.gguf")
    added = _cli("models", "add", str(model), "--key", "no-template", home=home)
    assert added.returncode != 0 and "has no chat template" in added.stderr, added.stderr
    with TenantStore.open(load_settings(home)) as store:
        assert store.run(get_model, "no-template") is None


def test_an_added_model_is_pinned_and_a_changed_file_never_loads(home: Path, tmp_path: Path) -> None:
    placed = tmp_path / "operator" / "smol-copy.gguf"
    placed.parent.mkdir()
    shutil.copyfile(model_entry().path(SHARED_MODELS_DIR), placed)
    added = _cli("models", "add", str(placed), "--key", "smol-copy", home=home)
    assert added.returncode == 0, added.stderr
    assert "llama" in added.stdout and "134.5M parameters" in added.stdout and "Q4_1" in added.stdout
    settings = load_settings(home)
    with TenantStore.open(settings) as store:
        pinned = store.run(get_model, "smol-copy")
        assert pinned is not None and pinned.sha256 == model_entry().sha256 and pinned.path == str(placed)
        assert pinned.metadata["chat_template"].startswith("{% for message in messages %}")
        entry = model_entry_for(settings, store, "smol-copy")
    assert verify_model(entry, settings.models_dir) == placed
    assert _cli("models", "verify", home=home).returncode == 0

    with placed.open("ab") as handle:  # the file is swapped for another after it was pinned
        handle.write(b"\0")
    with pytest.raises(ModelIntegrityError):
        verify_model(entry, settings.models_dir)
    verified = _cli("models", "verify", home=home)
    assert verified.returncode == 1 and "FAIL smol-copy" in verified.stdout
    qualify = _cli("models", "qualify", "--model", "smol-copy", "--limit", "1", home=home)
    assert qualify.returncode != 0 and "will not load" in qualify.stderr


def test_qualify_stores_its_result_with_the_model_hash_and_serve_reads_it(home: Path) -> None:
    quick = _cli("models", "qualify", "--limit", "2", home=home)  # part of the sets: stored, never qualifies
    assert quick.returncode == 1 and "right tool" in quick.stdout and "NOT PASSED" in quick.stdout, quick.stderr
    settings = load_settings(home)
    with TenantStore.open(settings) as store:
        latest = store.run(latest_qualification, model_entry().sha256)
        assert latest is not None and latest["passed"] is False and latest["rates"]["labelled"] == 2
        qualified, why = qualification_verdict(store, model_entry())
        assert not qualified and "failed its last qualification" in why
        catalog, _, mode = qualified_catalog(settings, store, enabled_catalog(settings))
    assert mode.startswith("tools: READ-ONLY") and not any(spec.changes_state for spec in catalog.values())
    assert "m365_user_get" in catalog and "aid_pending_cancel" in catalog
