"""`appliance audit query|verify|export` on a real SQLCipher store, through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.audit import record_for
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.gate import action_hash
from appliance.store import TenantStore, action_steps, pending_actions
from appliance.store.connection import Connection
from appliance.store.setup import initialize_store
from appliance.types import ExecutionResult


def _execute(store: TenantStore, n: int, sku: str) -> None:
    """One action through the real store steps: propose, confirm, execute, finish with its record."""
    args = {"user": f"user{n}@contoso.com", "sku": sku}
    summary = f"Assign {sku} to user{n}@contoso.com"
    digest = action_hash("m365_license_assign", args, summary)
    action = store.run(lambda db: action_steps.propose_action(
        db, user_text="assign", action_id=f"a{n}", conversation_ref="teams://msg/c", requester_id="doug-oid",
        tool="m365_license_assign", arguments=args, summary=summary, action_hash=digest,
        expires_at=datetime.now(UTC) + timedelta(minutes=10), requester_upn="doug@contoso.com",
        orchestrator="SmolLM2 (sha256:b179c9523d0e)"))
    assert store.run(pending_actions.confirm, action.id, requester_id="doug-oid", action_hash=digest)
    assert store.run(pending_actions.transition, action.id, "CONFIRMED", "EXECUTING", client_request_id=f"crid-{n}")
    running = store.run(pending_actions.get_action, action.id)
    message = '=HYPERLINK("https://evil.example.com")' if n == 1 else "Assigned."  # a formula in a field
    result = ExecutionResult("m365_license_assign", "done", f"crid-{n}", 200, f"req-{n}", {}, message)
    record = record_for(running, result, executed_at=datetime.now(UTC), implementer="Direct", implementer_name="x")
    assert store.run(action_steps.finish_action, action.id, "DONE", record.fields(), "shape")


@pytest.fixture
def home(appliance_home_dir: Path) -> Path:
    settings = load_settings(appliance_home_dir)
    initialize_store(settings)
    with TenantStore.open(settings) as store:
        for n, sku in enumerate(["ENTERPRISEPACK", "SPE_E5", "SPE_F1"]):
            _execute(store, n, sku)
    return appliance_home_dir


def test_query_shows_each_record_and_filters(home: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(cli, ["audit", "query"])
    assert table.exit_code == 0 and "3 record(s)" in table.output and "asked by doug@contoso.com" in table.output
    mine = runner.invoke(cli, ["audit", "query", "--json", "--requested-by", "DOUG@contoso.com"])
    rows = [json.loads(line) for line in mine.output.splitlines()]
    assert len(rows) == 3 and {r["ClientRequestId"] for r in rows} == {"crid-0", "crid-1", "crid-2"}
    assert runner.invoke(cli, ["audit", "query", "--requested-by", "eve@contoso.com"]).output.startswith("no audit")


def test_export_writes_jsonl_and_csv_and_never_overwrites(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["audit", "export", "--out", str(tmp_path / "a.jsonl")]).exit_code == 0
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3
    assert runner.invoke(cli, ["audit", "export", "--format", "csv", "--out", str(tmp_path / "a.csv")]).exit_code == 0
    rows = list(csv.DictReader((tmp_path / "a.csv").open()))
    assert rows[0]["ActionSummary"] == "Assign ENTERPRISEPACK to user0@contoso.com"
    assert json.loads(rows[0]["Arguments"]) == {"sku": "ENTERPRISEPACK", "user": "user0@contoso.com"}
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o600
    again = runner.invoke(cli, ["audit", "export", "--out", str(tmp_path / "a.jsonl")])
    assert again.exit_code == 1 and "never overwrite" in again.output


def test_a_spreadsheet_formula_in_a_field_is_neutralised(home: Path, tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["audit", "export", "--format", "csv", "--out", str(tmp_path / "f.csv")])
    details = [r["Detail"] for r in csv.DictReader((tmp_path / "f.csv").open())]
    assert details == ["Assigned.", "'=HYPERLINK(\"https://evil.example.com\")", "Assigned."]


def test_verify_passes_then_names_the_edited_record(home: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 records" in ok.output
    with TenantStore.open(load_settings(home)) as store:  # someone holding the key edits the file

        def edit(db: Connection) -> None:
            db.execute("DROP TRIGGER audit_records_append_only")
            text = db.execute("SELECT record_json FROM audit_records WHERE seq = 2").fetchone()[0]
            db.execute("UPDATE audit_records SET record_json = ? WHERE seq = 2", (text.replace("doug", "eve"),))

        store.run(edit)
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1 and "broken at record 2" in broken.output
