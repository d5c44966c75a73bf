"""The metrics see exactly the ops-log events, and only closed label sets reach the exposition."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from appliance import ops_log
from appliance.metrics import ApplianceMetrics, OpsMetricsHandler
from appliance.metrics.registry import closed, status_label


@pytest.fixture
def metrics() -> Iterator[ApplianceMetrics]:
    registry = ApplianceMetrics(["m365_user_get", "m365_license_assign"])
    handler = OpsMetricsHandler(registry).attach()
    yield registry
    handler.detach()


def samples(metrics: ApplianceMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_events_become_counters_and_histograms(metrics: ApplianceMetrics) -> None:
    ops_log.event("turn.proposed", tool="m365_license_assign", tokens=12, ms=420, conversation="c1")
    ops_log.event("turn.handled", kind="request", conversation="c1", ms=900)
    ops_log.event("action.confirmed", tool="m365_license_assign", action="a1")
    ops_log.event("action.confirm_refused", reason="wrong_hash", action="a1")
    ops_log.event("action.finished", tool="m365_license_assign", action="a1", outcome="Success", status=200)
    ops_log.event("graph.call", method="POST", status=200)
    ops_log.event("egress.blocked", host="evil.example", port=443, kind="socket")
    got = samples(metrics)
    assert got[("aidizen_proposals_total", (("tool", "m365_license_assign"),))] == 1
    assert got[("aidizen_model_latency_seconds_sum", ())] == pytest.approx(0.42)
    assert got[("aidizen_turn_duration_seconds_count", (("kind", "request"),))] == 1
    assert got[("aidizen_confirmations_total", (("step", "requester"), ("tool", "m365_license_assign")))] == 1
    assert got[("aidizen_refusals_total", (("reason", "wrong_hash"),))] == 1
    assert got[("aidizen_outcomes_total", (("outcome", "Success"), ("tool", "m365_license_assign")))] == 1
    assert got[("aidizen_graph_calls_total", (("method", "POST"), ("status", "200")))] == 1
    assert got[("aidizen_egress_refusals_total", (("kind", "socket"),))] == 1


def test_values_outside_the_closed_sets_never_become_labels(metrics: ApplianceMetrics) -> None:
    ops_log.event("turn.proposed", tool="sarah.lin@contoso.com", ms=5)
    ops_log.event("action.confirm_refused", reason="Sarah Lin pressed it")
    ops_log.event("action.finished", tool="m365_user_get", outcome="a secret outcome text")
    ops_log.event("graph.call", method="BREW", status="418 teapot")
    text = metrics.exposition().decode()
    assert "sarah" not in text.lower() and "secret" not in text and "BREW" not in text and "teapot" not in text
    got = samples(metrics)
    assert got[("aidizen_proposals_total", (("tool", "other"),))] == 1
    assert got[("aidizen_refusals_total", (("reason", "other"),))] == 1
    assert got[("aidizen_graph_calls_total", (("method", "other"), ("status", "other")))] == 1


def test_gauges_and_helpers() -> None:
    metrics = ApplianceMetrics([])
    got = samples(metrics)
    assert got[("aidizen_audit_chain_intact", ())] == -1  # before the first check
    metrics.set_audit_chain(False, 7, 1_700_000_000.0)
    metrics.set_pending({"AWAITING": 2, "BOGUS": 9}, unknown=1)
    metrics.set_token(False, None)
    got = samples(metrics)
    assert got[("aidizen_audit_chain_intact", ())] == 0 and got[("aidizen_audit_records", ())] == 7
    assert got[("aidizen_pending_actions", (("state", "AWAITING"),))] == 2
    assert ("aidizen_pending_actions", (("state", "BOGUS"),)) not in got
    assert got[("aidizen_actions_outcome_unknown", ())] == 1
    assert got[("aidizen_token_ok", ())] == 0 and got[("aidizen_token_refresh_failures_total", ())] == 1
    assert closed("x", {"y"}) == "other" and status_label(None) == "none" and status_label(True) == "other"
