"""serve's start-up check of the catalog: every enabled tool needs something that runs it and a worked example.

A new catalog tool that nobody wired up (no Graph executor, no example) stops `appliance serve` before it
opens the store or reaches the network, and `appliance doctor` names it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.catalog import DEFAULT_CATALOG, Catalog
from appliance.catalog.tools import ALL_TOOLS
from appliance.cli import doctor_cmd
from appliance.config import load_settings
from appliance.store.tenant_store import database_path
from appliance.wiring import service
from appliance.wiring.catalog_check import CatalogIncomplete, catalog_problems, check_catalog

WIDGET = replace(DEFAULT_CATALOG["m365_user_get"], name="m365_widget_get", graph_operation="GET /users/{id}/widget")
WITH_WIDGET = Catalog([*ALL_TOOLS, WIDGET])


def test_the_shipped_catalog_has_an_executor_and_an_example_for_every_tool() -> None:
    assert catalog_problems(DEFAULT_CATALOG) == []
    check_catalog(DEFAULT_CATALOG)


def test_a_tool_without_executor_or_example_is_named_with_what_to_add() -> None:
    assert catalog_problems(WITH_WIDGET) == [
        "m365_widget_get has no Graph executor",
        "m365_widget_get has no worked example",
    ]
    with pytest.raises(CatalogIncomplete, match="m365_widget_get has no Graph executor") as caught:
        check_catalog(WITH_WIDGET)
    assert "EXECUTORS" in caught.value.hint and "examples.py" in caught.value.hint


def test_a_tool_the_appliance_claims_to_answer_itself_must_be_one_it_does() -> None:
    claimed = replace(WIDGET, runs_on_graph=False)
    assert "m365_widget_get runs on neither Graph nor the appliance" in catalog_problems(Catalog([*ALL_TOOLS, claimed]))


def test_serve_refuses_to_start_before_it_opens_anything(
    appliance_home_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (appliance_home_dir / "appliance.toml").write_text(
        '[teams]\napp_id = "bot"\nallowed_tenant_id = "tenant"\n', encoding="utf-8"
    )
    settings = load_settings(appliance_home_dir)
    monkeypatch.setattr(service, "enabled_catalog", lambda _settings: WITH_WIDGET)
    with pytest.raises(CatalogIncomplete, match="m365_widget_get"):
        asyncio.run(service.start_service(settings))
    assert not database_path(settings).exists()


def test_doctor_runs_the_same_check(appliance_home_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("appliance.wiring.components.enabled_catalog", lambda _settings: WITH_WIDGET)
    monkeypatch.setattr(doctor_cmd, "CHECKS", (("catalog", doctor_cmd.check_catalog),))
    result = CliRunner().invoke(doctor_cmd.doctor)
    assert result.exit_code == 1
    assert "FAIL  catalog" in result.output and "m365_widget_get has no Graph executor" in result.output
