"""`appliance audit join` fills AuditEntryId from the dev tenant's directory audits, over real msal +
msgraph-sdk HTTPS (what serve's upkeep does every few seconds), with AuditEntryMatchedBy: how it was found."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.graph.connect import connect
from appliance.graph.executors import execute
from appliance.store import TenantStore, audit_records
from appliance.wiring.components import graph_endpoints, graph_permissions
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.clock import AuditLatency


def test_join_fills_the_entry_id_of_a_record_graph_has_written(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    with DevStack(home, qualify=False) as stack:  # no model runs here
        assert stack.tenant is not None
        monkeypatch.setenv("APPLIANCE_HOME", str(home))
        settings = load_settings(home)
        stack.tenant.context.audit_latency = AuditLatency.fixed(300)  # Entra's 99th percentile, on the tenant clock
        crid = str(uuid.uuid4())
        with TenantStore.open(settings) as store:
            _, gateway = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
            done = asyncio.run(execute(gateway, "m365_user_disable", {"user": "leaver@contoso.com"}, crid))
            assert done.outcome == "done"
            written = {"ToolName": "m365_user_disable", "Outcome": "Success", "ClientRequestId": crid,
                       "ExecutedAt": datetime.now(UTC)}
            store.run(audit_records.append_record, written)
            other = store.run(audit_records.append_record, {"ToolName": "m365_user_enable", "Outcome": "Success",
                                                            "ClientRequestId": str(uuid.uuid4())})
        result = CliRunner().invoke(cli, ["audit", "join"])
        assert result.exit_code == 0 and "joined 0 record(s)" in result.output  # entries are late: not readable yet
        stack.tenant.context.clock.advance(301)
        result = CliRunner().invoke(cli, ["audit", "join"])
        assert result.exit_code == 0, result.output
        assert "joined 1 record(s)" in result.output
        entry = next(a for a in stack.tenant.context.state.data["directoryAudits"] if a["correlationId"] == crid)
        with TenantStore.open(settings) as store:
            joined = store.run(audit_records.find_by_client_request_id, crid)
            assert joined is not None and joined["AuditEntryId"] == entry["id"]
            assert joined["AuditEntryMatchedBy"] == "correlationId"  # the strong join: its own client-request-id
            unjoined = store.run(audit_records.find_by_client_request_id, other["ClientRequestId"])
            assert unjoined is not None and unjoined["AuditEntryId"] is None  # Graph never wrote that one
            assert store.run(audit_records.verify).ok  # AuditEntryId is outside the hash
        shown = CliRunner().invoke(cli, ["audit", "query", "--tool", "m365_user_disable"])
        assert f"M365 {entry['id']} (matched by correlationId)" in shown.output, shown.output

        # where the correlationId echo does not hold, the documented fields find it, and the record says so
        stack.tenant.context.correlation_is_client_request_id = False
        stack.tenant.context.audit_latency = AuditLatency.fixed(0)
        fallback = str(uuid.uuid4())
        with TenantStore.open(settings) as store:
            _, gateway = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
            started = stack.tenant.context.clock.now()  # the entry is dated on the tenant's (advanced) clock
            enabled = asyncio.run(execute(gateway, "m365_user_enable", {"user": "leaver@contoso.com"}, fallback))
            assert enabled.outcome == "done"
            store.run(audit_records.append_record, {
                "ToolName": "m365_user_enable", "Outcome": "Success", "ClientRequestId": fallback,
                "Arguments": {"user": "leaver@contoso.com"}, "ConfirmedAt": started, "ExecutedAt": started})
        result = CliRunner().invoke(cli, ["audit", "join"])
        assert result.exit_code == 0 and "joined 1 record(s)" in result.output, result.output
        with TenantStore.open(settings) as store:
            joined = store.run(audit_records.find_by_client_request_id, fallback)
            assert joined is not None and joined["AuditEntryId"] and joined["AuditEntryMatchedBy"] == "activity"
            assert store.run(audit_records.verify).ok
