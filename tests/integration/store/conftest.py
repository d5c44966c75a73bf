"""A real SQLCipher store in a fresh $APPLIANCE_HOME, with its key file beside (not inside) it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import Settings, load_settings
from appliance.store import TenantStore
from appliance.store.keys import FileKeyProvider


@pytest.fixture
def settings(appliance_home_dir: Path) -> Settings:
    return load_settings(appliance_home_dir)


@pytest.fixture
def key_file(settings: Settings) -> Path:
    path = settings.home.parent / "home.key"
    FileKeyProvider(path, settings.home).create()
    return path


@pytest.fixture
def store(settings: Settings, key_file: Path) -> Iterator[TenantStore]:
    tenant_store = TenantStore.open(settings, create=True)
    yield tenant_store
    tenant_store.close()
