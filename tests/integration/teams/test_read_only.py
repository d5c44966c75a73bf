"""`serve --dev` with a model that was never qualified runs read-only and says why (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance_dev.dev_stack import DevStack
from tests.conftest import SHARED_MODELS_DIR
from tests.integration.teams.conftest import cards, texts


@pytest.fixture(scope="module")
def unqualified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """A dev stack whose model has no qualification run in its store."""
    home = tmp_path_factory.mktemp("unqualified") / "home"
    with DevStack(home, models_dir=SHARED_MODELS_DIR, qualify=False) as running:
        running.start_appliance()
        yield running


def test_an_unqualified_model_gets_no_state_changing_tool(unqualified: DevStack) -> None:
    assert unqualified.client is not None and unqualified.tenant is not None
    log = unqualified.log_path.read_text(encoding="utf-8")
    assert "tools: READ-ONLY; model smollm2-135m-instruct-q4_1" in log and "was never qualified" in log
    _, events = unqualified.client.ask("hana.berg@contoso.com", "Disable the account of leaver@contoso.com")
    assert not cards(events), texts(events)  # no confirmation card can exist: the grammar has no such tool
    assert unqualified.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True
    _, looked_up = unqualified.client.ask("ivo.petrov@contoso.com", "Who is sarah.lin@contoso.com?")
    assert any("Sarah Lin" in text for text in texts(looked_up)), texts(looked_up)
