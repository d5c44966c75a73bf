"""Shared by the integration tests that start `init --dev` or `serve --dev` in a subprocess with a time limit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_settings
from appliance.store.setup import initialize_store
from appliance.wiring.dev import DEV_QUALIFICATION
from appliance.wiring.models import qualify_for_dev
from tests.conftest import SHARED_MODELS_DIR


@pytest.fixture(scope="session")
def dev_model_qualified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The default model's dev qualification, run once before any timed subprocess needs it.

    `init --dev` qualifies the model (the labelled and hostile sets, minutes on 2 cores) unless a run with the
    same model, sets, catalog and engine settings is already recorded next to the model; a subprocess with a
    180 s limit that happens to be the first dev set-up of a fresh clone would otherwise time out."""
    home: Path = tmp_path_factory.mktemp("qualified") / "home"
    home.mkdir()
    (home / "appliance.toml").write_text(DEV_QUALIFICATION, encoding="utf-8")
    before = os.environ.get("APPLIANCE_MODELS_DIR")
    os.environ["APPLIANCE_MODELS_DIR"] = str(SHARED_MODELS_DIR)
    try:
        settings = load_settings(home)
        initialize_store(settings)
        verdict = qualify_for_dev(settings)
    finally:
        if before is None:
            os.environ.pop("APPLIANCE_MODELS_DIR", None)
        else:
            os.environ["APPLIANCE_MODELS_DIR"] = before
    assert verdict.endswith(": passed"), verdict
    yield verdict
