"""`ApplianceMetrics`: every metric the appliance exports, in its own registry, with closed label sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

OTHER = "other"
TURN_KINDS = frozenset({"card", "empty", "too_long", "typed_yes", "typed_no", "refused_person", "request"})
REFUSAL_REASONS = frozenset({
    "not_a_requester", "unknown_person", "protected_target", "malformed", "unknown_action", "not_requester",
    "wrong_hash",
    "already_decided", "expired", "self_approval", "not_an_approver", "not_confirmed_yet",
})
OUTCOMES = frozenset({"Success", "Failure", "Refused", "Unknown", "Cancelled", "Expired"})
ACTION_STATES = ("PROPOSED", "AWAITING", "CONFIRMED", "EXECUTING")
HTTP_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
EGRESS_KINDS = frozenset({"httpx", "requests", "aiohttp", "socket", "dns"})
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def closed(value: object, allowed: Iterable[str]) -> str:
    """`value` as a label if it is one of `allowed`, else "other" (nothing outside a closed set is exported)."""
    text = str(value)
    return text if text in allowed else OTHER


def status_label(value: object) -> str:
    """An HTTP status code as a label ("200"), "none" for no response, "other" for anything else."""
    if value is None:
        return "none"
    return str(value) if isinstance(value, int) and 100 <= value <= 599 else OTHER


class ApplianceMetrics:
    """The appliance's metrics. `tools` is the closed set of tool names a `tool` label may take."""

    def __init__(self, tools: Iterable[str]) -> None:
        self.tools = frozenset(tools)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter("aidizen_turns", "Messages and button presses handled, by kind", ["kind"], registry=r)
        self.proposals = Counter("aidizen_proposals", "Tool calls the model proposed, by tool", ["tool"], registry=r)
        self.actions_proposed = Counter(
            "aidizen_actions_proposed", "State changes put to a requester for confirmation, by tool", ["tool"],
            registry=r,
        )
        self.confirmations = Counter(
            "aidizen_confirmations", "Confirmations accepted (step: requester or second_approver), by tool",
            ["tool", "step"], registry=r,
        )
        self.refusals = Counter("aidizen_refusals", "Requests and answers refused, by gate reason", ["reason"],
                                registry=r)
        self.outcomes = Counter("aidizen_outcomes", "Actions ended, by outcome and tool", ["outcome", "tool"],
                                registry=r)
        self.reads = Counter("aidizen_reads", "Read-only tool calls, by tool and outcome", ["tool", "outcome"],
                             registry=r)
        self.graph_calls = Counter("aidizen_graph_calls", "HTTP calls to Microsoft Graph, by method and status",
                                   ["method", "status"], registry=r)
        self.egress_refusals = Counter("aidizen_egress_refusals", "Outbound connections refused by the egress "
                                       "allowlist, by layer", ["kind"], registry=r)
        self.turn_errors = Counter("aidizen_turn_errors", "Turns that failed (model, crash, busy, unreachable)",
                                   ["kind"], registry=r)
        self.upkeep_failures = Counter("aidizen_upkeep_failures", "Upkeep rounds that raised", registry=r)
        self.token_failures = Counter("aidizen_token_refresh_failures", "Failed checks of the Aid's token "
                                      "(refresh refused or Entra unreachable)", registry=r)
        self.model_latency = Histogram("aidizen_model_latency_seconds", "Time the orchestrator took to propose "
                                       "one tool call", buckets=LATENCY_BUCKETS, registry=r)
        self.turn_latency = Histogram("aidizen_turn_duration_seconds", "Time to handle one message, by kind",
                                      ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.pending = Gauge("aidizen_pending_actions", "Actions not yet ended, by state", ["state"], registry=r)
        self.audit_intact = Gauge("aidizen_audit_chain_intact", "1 if the audit hash chain verified at the last "
                                  "check, 0 if broken, -1 before the first check", registry=r)
        self.audit_records = Gauge("aidizen_audit_records", "Audit records kept", registry=r)
        self.audit_checked = Gauge("aidizen_audit_chain_checked_timestamp_seconds",
                                   "When the audit chain was last verified (Unix time)", registry=r)
        self.token_expiry = Gauge("aidizen_token_expiry_timestamp_seconds",
                                  "When the Aid's current access token expires (Unix time)", registry=r)
        self.token_ok = Gauge("aidizen_token_ok", "1 if the Aid's token was obtainable at the last check",
                              registry=r)
        self.upkeep_last = Gauge("aidizen_upkeep_last_success_timestamp_seconds",
                                 "When an upkeep round last completed (Unix time)", registry=r)
        self.unknown_outcomes = Gauge("aidizen_actions_outcome_unknown", "Actions whose Graph call may have run "
                                      "and whose outcome is not settled yet (EXECUTING, not running here)",
                                      registry=r)
        self.audit_intact.set(-1)
        for state in ACTION_STATES:
            self.pending.labels(state=state).set(0)

    # -- labels from closed sets -------------------------------------------------------------------
    def tool(self, value: object) -> str:
        """A catalog tool name, or "other"."""
        return closed(value, self.tools)

    # -- gauges set by the wiring --------------------------------------------------------------------
    def set_pending(self, counts: Mapping[str, int], unknown: int) -> None:
        """Open actions by state (states outside the known set are ignored) and how many are unsettled."""
        for state in ACTION_STATES:
            self.pending.labels(state=state).set(int(counts.get(state, 0)))
        self.unknown_outcomes.set(unknown)

    def set_audit_chain(self, ok: bool, records: int, checked_at: float) -> None:
        """The result of one audit chain verification."""
        self.audit_intact.set(1 if ok else 0)
        self.audit_records.set(records)
        self.audit_checked.set(checked_at)

    def set_token(self, ok: bool, expires_at: float | None) -> None:
        """Whether the Aid's token could be obtained, and when the current one expires."""
        self.token_ok.set(1 if ok else 0)
        if not ok:
            self.token_failures.inc()
        if expires_at is not None:
            self.token_expiry.set(expires_at)

    def upkeep_done(self, at: float) -> None:
        """One upkeep round completed."""
        self.upkeep_last.set(at)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (version 0.0.4)."""
        return generate_latest(self.registry)
