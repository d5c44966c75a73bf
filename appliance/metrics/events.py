"""`OpsMetricsHandler`: turns operational-log events into counter and histogram updates.

The appliance already logs one `ops_log.event` per thing worth counting (a turn, a proposal, a
confirmation, a refusal, an outcome, a Graph call, an egress refusal), with metadata fields only. This
handler reads those events, so the metrics see exactly what the log sees and no room needs to know
Prometheus. Only the fields' *names* below are read, and every value goes through a closed set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from appliance import ops_log
from appliance.metrics.registry import (
    EGRESS_KINDS,
    HTTP_METHODS,
    OUTCOMES,
    REFUSAL_REASONS,
    TURN_KINDS,
    ApplianceMetrics,
    closed,
    status_label,
)

Fields = Mapping[str, Any]


def _seconds(fields: Fields) -> float | None:
    ms = fields.get("ms")
    return ms / 1000.0 if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0 else None


class OpsMetricsHandler(logging.Handler):
    """A logging handler on the `aidizen.ops` logger that updates `metrics` (never raises)."""

    def __init__(self, metrics: ApplianceMetrics) -> None:
        super().__init__(level=logging.INFO)
        self.metrics = metrics
        m = metrics
        self._on: dict[str, Callable[[Fields], None]] = {
            "turn.handled": self._turn,
            "turn.proposed": self._proposed,
            "turn.refused": lambda f: m.refusals.labels(reason=closed(f.get("reason"), REFUSAL_REASONS)).inc(),
            "turn.model_failed": lambda f: m.turn_errors.labels(kind="model_failed").inc(),
            "turn.crashed": lambda f: m.turn_errors.labels(kind="crashed").inc(),
            "turn.busy": lambda f: m.turn_errors.labels(kind="busy").inc(),
            "turn.unreachable": lambda f: m.turn_errors.labels(kind="unreachable").inc(),
            "action.proposed": lambda f: m.actions_proposed.labels(tool=m.tool(f.get("tool"))).inc(),
            "action.confirmed": lambda f: m.confirmations.labels(tool=m.tool(f.get("tool")), step="requester").inc(),
            "action.approved": lambda f: m.confirmations.labels(tool=m.tool(f.get("tool")),
                                                                step="second_approver").inc(),
            "action.confirm_refused": self._refused,
            "action.approval_refused": self._refused,
            "card.refused": self._refused,
            "action.finished": self._outcome,
            "action.cancelled": lambda f: m.outcomes.labels(outcome="Cancelled", tool=m.tool(f.get("tool"))).inc(),
            "action.expired": lambda f: m.outcomes.labels(outcome="Expired", tool=m.tool(f.get("tool"))).inc(),
            "action.outcome_unknown": lambda f: m.outcomes.labels(outcome="Unknown", tool=m.tool(f.get("tool"))).inc(),
            "tool.read": lambda f: m.reads.labels(tool=m.tool(f.get("tool")),
                                                  outcome=closed(f.get("outcome"), {"done", "failed", "error"})).inc(),
            "graph.call": lambda f: m.graph_calls.labels(method=closed(f.get("method"), HTTP_METHODS),
                                                         status=status_label(f.get("status"))).inc(),
            "egress.blocked": lambda f: m.egress_refusals.labels(kind=closed(f.get("kind"), EGRESS_KINDS)).inc(),
            "upkeep.failed": lambda f: m.upkeep_failures.inc(),
        }

    def emit(self, record: logging.LogRecord) -> None:
        """Update the metric this event feeds, if any."""
        fields = getattr(record, "ops_fields", None)
        update = self._on.get(str(record.msg)) if record.name == ops_log.LOGGER_NAME else None
        if update is None or not isinstance(fields, dict):
            return
        try:
            update(fields)
        except Exception:  # a metrics bug must never break the code that logged
            self.handleError(record)

    def _turn(self, fields: Fields) -> None:
        kind = closed(fields.get("kind"), TURN_KINDS)
        self.metrics.turns.labels(kind=kind).inc()
        seconds = _seconds(fields)
        if seconds is not None:
            self.metrics.turn_latency.labels(kind=kind).observe(seconds)

    def _proposed(self, fields: Fields) -> None:
        self.metrics.proposals.labels(tool=self.metrics.tool(fields.get("tool"))).inc()
        seconds = _seconds(fields)
        if seconds is not None:
            self.metrics.model_latency.observe(seconds)

    def _refused(self, fields: Fields) -> None:
        self.metrics.refusals.labels(reason=closed(fields.get("reason"), REFUSAL_REASONS)).inc()

    def _outcome(self, fields: Fields) -> None:
        outcome = closed(fields.get("outcome"), OUTCOMES)
        self.metrics.outcomes.labels(outcome=outcome, tool=self.metrics.tool(fields.get("tool"))).inc()

    def attach(self) -> OpsMetricsHandler:
        """Listen to the ops logger (its level is INFO once `ops_log.configure` ran)."""
        logger = logging.getLogger(ops_log.LOGGER_NAME)
        logger.addHandler(self)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        return self

    def detach(self) -> None:
        """Stop listening."""
        logging.getLogger(ops_log.LOGGER_NAME).removeHandler(self)
