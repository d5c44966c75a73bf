"""One real appliance process per module (`appliance serve --dev`, real model, real botbuilder, msal,
msgraph-sdk, SQLCipher) against an in-process dev tenant over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, card_of
from tests.conftest import SHARED_MODELS_DIR


def running_stack(tmp_path_factory: pytest.TempPathFactory, name: str, extra_config: str = "") -> Iterator[DevStack]:
    """A started dev tenant + appliance under a fresh home (`extra_config`: sections pinned in appliance.toml);
    a module's `stack` fixture yields from it."""
    home = tmp_path_factory.mktemp(name) / "home"
    with DevStack(home, extra_config=extra_config, models_dir=SHARED_MODELS_DIR) as running:
        running.start_appliance()
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """A started dev tenant + appliance for the whole module."""
    yield from running_stack(tmp_path_factory, "teams")


@pytest.fixture(scope="module")
def teams(stack: DevStack) -> DevTeamsClient:
    """A Teams user's view of the Aid (of the module's `stack`)."""
    assert stack.client is not None
    return stack.client


def texts(events: list[dict[str, Any]]) -> list[str]:
    """The plain texts among bot events."""
    return [str(e["activity"].get("text")) for e in events if e["event"] == "message" and e["activity"].get("text")]


def cards(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cards among bot events (sent or updated), in order."""
    return [card for e in events if (card := card_of(e)) is not None]
