"""How well a model does the Aid's job: the labelled and hostile request sets, scored.

`sets` loads the data (`tests/evaluation/` in the repository, or a directory the operator names),
`scoring` judges one proposal against its label and sums a run into rates, `runner` runs a model over
the sets. `appliance models qualify` and the accuracy tests use the same three.
"""

from appliance.evaluation.runner import evaluate, grounded
from appliance.evaluation.scoring import EvaluationReport, judge_hostile, judge_labelled
from appliance.evaluation.sets import EvaluationSets, HostileCase, LabelledCase, load_sets

__all__ = [
    "EvaluationReport",
    "EvaluationSets",
    "HostileCase",
    "LabelledCase",
    "evaluate",
    "grounded",
    "judge_hostile",
    "judge_labelled",
    "load_sets",
]
