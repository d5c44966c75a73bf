"""Shared fixtures. Every test gets its own $APPLIANCE_HOME; the real model is shared read-only."""

from __future__ import annotations

import socket
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


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP listener on loopback that nothing is allowed to reach (see `saw_a_connection`)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def saw_a_connection(server: socket.socket) -> bool:
    """Whether anything connected to `listener` (accepts and closes one pending connection)."""
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True
