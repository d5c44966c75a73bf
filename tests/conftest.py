"""Shared fixtures. Every test gets its own $APPLIANCE_HOME; the real model is shared read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import appliance_home

REPO_ROOT = Path(__file__).resolve().parents[1]
# The model is fetched once by `make test` (appliance models fetch) into the developer's
# $APPLIANCE_HOME/models; tests read it from there through APPLIANCE_MODELS_DIR.
SHARED_MODELS_DIR = appliance_home().joinpath("models")


@pytest.fixture
def appliance_home_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty $APPLIANCE_HOME for one test (models stay shared)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("APPLIANCE_HOME", str(home))
    monkeypatch.setenv("APPLIANCE_MODELS_DIR", str(SHARED_MODELS_DIR))
    yield home
