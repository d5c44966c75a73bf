"""A real, migrated SQLCipher connection in a temporary directory (no mocks of the database)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store.connection import Connection, open_encrypted
from appliance.store.migrations import migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Connection]:
    connection = open_encrypted(tmp_path / "unit.db", os.urandom(32), "test key")
    migrate(connection)
    yield connection
    connection.close()
