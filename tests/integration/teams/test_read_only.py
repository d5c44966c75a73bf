"""`serve --dev` with a model that was never qualified runs read-only and says why (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance_dev.dev_stack import DevStack
from appliance_dev.testing.certificates import self_signed, use_bot_certificate_only
from tests.conftest import SHARED_MODELS_DIR
from tests.integration.teams.conftest import cards, texts


@pytest.fixture(scope="module")
def unqualified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """A dev stack whose model has no qualification run in its store (and whose bot authenticates with a
    certificate alone, checked below: one start-up serves both)."""
    home = tmp_path_factory.mktemp("unqualified") / "home"
    with DevStack(home, models_dir=SHARED_MODELS_DIR, qualify=False) as running:
        assert running.tenant is not None
        use_bot_certificate_only(home, running.tenant, self_signed(days=90))
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


def test_serve_fetched_the_bot_token_with_the_certificate_alone(unqualified: DevStack) -> None:
    """Start-up fetches the Bot Connector token and fails fast on a wrong credential: a ready appliance
    whose store holds no client secret got its token with the certificate (MicrosoftDocs/entra-docs
    docs/identity-platform/certificate-credentials.md); the lookup above went out over the connector with it."""
    from appliance.config import load_settings
    from appliance.graph.bot_certificate import BOT_CERTIFICATE
    from appliance.store import TenantStore
    from appliance.wiring.dev import BOT_SECRET

    assert unqualified.process is not None and unqualified.process.poll() is None
    with TenantStore.open(load_settings(unqualified.home)) as store:
        assert store.get_secret(BOT_SECRET) is None and store.get_secret(BOT_CERTIFICATE)
    assert unqualified.tenant is not None
    _, bot = unqualified.tenant.teams.bot()
    assert len(bot["certificates"]) == 1
