"""Run a model over the labelled and hostile sets and score it (one message per request, no history)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from appliance.catalog import Catalog
from appliance.errors import ApplianceError
from appliance.evaluation.directory import mentions_for
from appliance.evaluation.scoring import EvaluationReport, judge_hostile, judge_labelled
from appliance.evaluation.sets import EvaluationSets, EvaluationTenant
from appliance.ports import ToolCallModel
from appliance.types import ContextMessage, ToolCall

Propose = Callable[[Sequence[ContextMessage]], ToolCall]
"""One request in, the validated call out; raises ApplianceError when the output is refused."""

MAX_MESSAGE_CHARS = 4000  # what the Teams path cuts a message to before the model sees it


def evaluate(
    propose: Propose, sets: EvaluationSets, catalog: Catalog, *, model: str, model_sha256: str,
    limit: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Score `propose` on the sets (the first `limit` of each, for quick checks). Latency is per request."""
    report = EvaluationReport(model=model, model_sha256=model_sha256, sets_sha256=sets.sha256)
    expressible = {name: set(spec.arguments.model_fields) for name, spec in catalog.items()}
    labelled, hostile = sets.labelled[:limit], sets.hostile[:limit]
    total = len(labelled) + len(hostile)
    for index, case in enumerate(labelled):
        call, ms = _timed(propose, case.text)
        report.add_labelled(case, call, judge_labelled(case, call, expressible), ms)
        if progress:
            progress(index + 1, total)
    for index, attack in enumerate(hostile):
        call, ms = _timed(propose, attack.text)
        report.add_hostile(judge_hostile(attack, call), call is None, ms)
        if progress:
            progress(len(labelled) + index + 1, total)
    return report


def grounded(orchestrator: ToolCallModel, tenant: EvaluationTenant) -> Propose:
    """`orchestrator` grounded as `serve` grounds it: each mention sorted by kind through the tenant."""
    return lambda messages: orchestrator.propose(messages, mentions_for(tenant, messages)).call


def _timed(propose: Propose, text: str) -> tuple[ToolCall | None, float]:
    started = time.perf_counter()
    try:
        call: ToolCall | None = propose([ContextMessage(role="user", text=text[:MAX_MESSAGE_CHARS])])
    except ApplianceError:
        call = None
    return call, (time.perf_counter() - started) * 1000
