"""`/metrics` of a real `serve --dev`, parsed by prometheus-client's own text parser after a real
conversation: what was counted, and that no label (nor anything else in the scrape) holds personal data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data
from tests.conftest import REPO_ROOT
from tests.integration.ops.conftest import metrics_url
from tests.integration.teams.conftest import cards, texts

REQUESTER, OTHER = "doug@contoso.com", "mike.chan@contoso.com"  # doug is in the requester group
ALLOWED_LABELS = {"kind", "tool", "step", "reason", "outcome", "method", "status", "state", "le"}


def scrape(stack: DevStack) -> tuple[str, dict[str, Any]]:
    body = httpx.get(metrics_url(stack), timeout=10.0).text
    samples: dict[str, Any] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            key = sample.name + "".join(f"|{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[key] = sample.value
    return body, samples


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    key = name + "".join(f"|{k}={v}" for k, v in sorted(labels.items()))
    return float(samples.get(key, 0.0))


def personal_strings(stack: DevStack, conversations: list[str]) -> set[str]:
    assert stack.tenant is not None
    data = stack.tenant.context.state.data
    found = set(conversations)
    for user in data["users"]:
        found |= {user["id"], user["userPrincipalName"].lower(), user["displayName"]}
    for group in data["groups"]:
        found |= {group["id"], group["displayName"]}
    return {text for text in found if text and len(text) > 3}


def test_a_conversation_is_counted_and_no_label_holds_personal_data(stack: DevStack, teams: DevTeamsClient) -> None:
    _, before = scrape(stack)
    _, events = teams.ask(REQUESTER, "Assign an E3 license (ENTERPRISEPACK) to sarah.lin@contoso.com")
    card = cards(events)[-1]
    confirm = button_data(card, "Confirm")
    assert confirm is not None
    _, refused = teams.ask(OTHER, value=confirm)  # someone else presses the button: refused
    assert any("Only the person who asked" in text for text in texts(refused))
    _, done = teams.ask(REQUESTER, value=confirm)
    assert any("Assigned ENTERPRISEPACK" in text for text in texts(done)), texts(done)

    body, after = scrape(stack)
    tool = "m365_license_assign"
    assert value(after, "aidizen_proposals_total", tool=tool) >= value(before, "aidizen_proposals_total", tool=tool) + 1
    assert value(after, "aidizen_actions_proposed_total", tool=tool) >= 1
    assert value(after, "aidizen_confirmations_total", tool=tool, step="requester") >= 1
    assert value(after, "aidizen_refusals_total", reason="not_requester") >= 1
    assert value(after, "aidizen_outcomes_total", outcome="Success", tool=tool) >= 1
    assert value(after, "aidizen_turns_total", kind="request") >= 1
    assert value(after, "aidizen_turns_total", kind="card") >= 2
    assert value(after, "aidizen_model_latency_seconds_count") >= 1
    assert value(after, "aidizen_model_latency_seconds_sum") > 0
    assert value(after, "aidizen_graph_calls_total", method="POST", status="200") >= 1  # assignLicense
    assert value(after, "aidizen_pending_actions", state="AWAITING") >= 0
    assert "aidizen_token_expiry_timestamp_seconds" in body and value(after, "aidizen_token_ok") == 1
    assert value(after, "aidizen_token_expiry_timestamp_seconds") > 1e9
    assert value(after, "aidizen_audit_chain_intact") == 1
    assert "aidizen_egress_refusals_total" in body

    conversations = [teams.conversation_of(REQUESTER), teams.conversation_of(OTHER)]
    for secret in personal_strings(stack, conversations):
        assert secret.lower() not in body.lower(), f"personal data in /metrics: {secret!r}"
    assert "@" not in body
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, sample


def test_every_alert_uses_a_metric_the_appliance_exports(stack: DevStack) -> None:
    body, _ = scrape(stack)
    exported = {family.name for family in text_string_to_metric_families(body)}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_count" for name in exported}
    (rule,) = [d for d in yaml.safe_load_all(Path(REPO_ROOT / "deploy/kubernetes/prometheusrule.yaml").read_text())
               if d]
    alerts = rule["spec"]["groups"][0]["rules"]
    names = {alert["alert"] for alert in alerts}
    assert {"AidizenAuditChainBroken", "AidizenTokenRefreshFailing", "AidizenUpkeepStuck",
            "AidizenActionsInUnknownOutcome", "AidizenEgressRefused"} <= names
    for alert in alerts:
        used = set(re.findall(r"aidizen_[a-z_]+", alert["expr"]))
        assert used and used <= exported, (alert["alert"], used - exported)
