"""One real `appliance serve --dev` (real model, botbuilder, msal, msgraph-sdk, SQLCipher) for the
operations tests: metrics, audit completeness, the audit API and online backup."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient
from tests.conftest import SHARED_MODELS_DIR

# The direct audit API is on; its tokens come from the dev tenant (tests/integration/ops/test_audit_api.py).
EXTRA = '[audit_api]\nenabled = true\napp_id_uri = "api://aidizen-audit"\nclient_id = "aidizen-audit-api"\n'


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """A started dev tenant + appliance for the whole package."""
    home = tmp_path_factory.mktemp("ops") / "home"
    with DevStack(home, extra_config=EXTRA, models_dir=SHARED_MODELS_DIR) as running:
        running.start_appliance()
        yield running


@pytest.fixture(scope="package")
def teams(stack: DevStack) -> DevTeamsClient:
    """A Teams user's view of the Aid."""
    assert stack.client is not None
    return stack.client


def metrics_url(stack: DevStack, timeout: float = 30.0) -> str:
    """The /metrics URL the appliance printed at start-up (`metrics: http://...`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(r"metrics: (http://\S+/metrics)", stack.log_tail(400))
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no metrics URL in the appliance's output:\n{stack.log_tail()}")
