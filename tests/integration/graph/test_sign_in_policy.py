"""A tenant whose Conditional Access blocks the device-code flow (MicrosoftDocs/entra-docs
docs/identity/conditional-access/concept-authentication-flows.md): the device-code sign-in and the refreshes
of a device-code session are refused with AADSTS53003; `doctor` and `init --sign-in` name the blocked flow
and the way out, and the browser sign-in (authorization code + PKCE) works and renews."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.doctor_cmd import check_identity
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.graph.errors import GraphAuthError
from appliance.graph.sign_in_policy import BROWSER, SIGN_IN_FLOW_SETTING
from appliance.store import TenantStore, key_value_settings
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.entra_policies import block_device_code
from tests.integration.graph.test_browser_sign_in import browser_for


def test_a_blocked_device_code_flow_is_named_and_the_browser_sign_in_gets_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    with DevStack(home, qualify=False) as stack:  # `init --dev`: the Aid signed in by device code
        assert stack.tenant is not None
        monkeypatch.setenv("APPLIANCE_HOME", str(home))
        assert check_identity(load_settings(home)).startswith("token valid")
        block_device_code(stack.tenant.context, True)

        with pytest.raises(GraphAuthError) as refused:  # doctor's identity check: the refresh is refused
            check_identity(load_settings(home))
        assert "(signed in by device code)" in refused.value.message and "AADSTS53003" in refused.value.message
        assert "protocol tracking" in refused.value.message
        assert refused.value.hint == "Sign the Aid in again by another flow: `appliance init --sign-in --browser`."

        device = CliRunner().invoke(cli, ["init", "--sign-in"])
        assert device.exit_code == 1
        assert "the device code sign-in failed: a Conditional Access policy blocked the device code flow" in \
            device.output and "appliance init --sign-in --browser" in device.output

        monkeypatch.setattr("webbrowser.open", browser_for(stack, []))
        browser = CliRunner().invoke(cli, ["init", "--sign-in", "--browser"])
        assert browser.exit_code == 0, browser.output
        assert check_identity(load_settings(home)).startswith("token valid")  # a browser session renews
        with TenantStore.open(load_settings(home)) as store:
            assert store.run(key_value_settings.get_setting, SIGN_IN_FLOW_SETTING) == BROWSER
