"""`appliance audit query|verify|export` on a real SQLCipher store, through the real CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.store import TenantStore
from appliance.store.connection import Connection


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
