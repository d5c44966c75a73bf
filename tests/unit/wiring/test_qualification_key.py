"""The dev qualification cache is keyed on everything that decides what the engine answers, router included."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_settings
from appliance.engine.manifest import model_entry
from appliance.wiring import models
from appliance.wiring.components import enabled_catalog


def test_the_router_the_cue_lexicon_and_the_prompt_are_in_the_hashed_files() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in models.engine_code_files()}
    assert {"engine/router.py", "engine/cues.py", "engine/cues.toml", "engine/prompt.py", "engine/examples.py",
            "grammar/mentions.py"} <= names


def test_a_changed_byte_in_any_hashed_file_changes_the_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [tmp_path / "engine" / "router.py", tmp_path / "engine" / "cues.toml"]
    files[0].parent.mkdir()
    for f in files:
        f.write_text("x = 1\n")
    monkeypatch.setattr(models, "engine_code_files", lambda: files)
    before = models.engine_code_sha256()
    files[1].write_text("x = 2\n")
    assert models.engine_code_sha256() != before


def test_the_run_key_changes_with_the_engine_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(tmp_path)
    catalog = enabled_catalog(settings)
    monkeypatch.setattr(models, "engine_code_sha256", lambda: "a" * 64)
    first = models.run_key(settings, model_entry(), "s" * 64, catalog)
    assert models.run_key(settings, model_entry(), "s" * 64, catalog) == first
    monkeypatch.setattr(models, "engine_code_sha256", lambda: "b" * 64)
    assert models.run_key(settings, model_entry(), "s" * 64, catalog) != first
