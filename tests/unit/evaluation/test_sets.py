"""The labelled and hostile sets: big enough, realistic in the ways issue 12 asks, and held apart from
the engine's example bank (a model shown the answer is not measured)."""

from __future__ import annotations

import re
from collections import Counter

from appliance.engine.examples import EXAMPLES
from appliance.evaluation import load_sets

SETS = load_sets()


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def test_the_labelled_set_is_large_multilingual_and_a_third_names() -> None:
    labelled = SETS.labelled
    assert len(labelled) >= 150
    assert sum(case.names for case in labelled) * 3 >= len(labelled)
    languages = Counter(case.lang for case in labelled)
    assert set(languages) == {"en", "de", "fr"} and min(languages.values()) >= 20
    assert sum(case.typo for case in labelled) >= 10
    emergencies = [case for case in labelled if case.emergency]
    assert len(emergencies) >= 15
    assert {case.tool for case in emergencies} <= {"m365_user_disable", "m365_sessions_revoke"}


def test_a_names_case_names_a_person_or_group_not_an_address() -> None:
    for case in SETS.labelled:
        named = [v for k, v in case.arguments.items() if k in ("user", "group")]
        if case.names:
            assert any("@" not in value for value in named), case.text
        else:
            assert all("@" in value for value in named), case.text


def test_every_name_and_address_in_a_label_is_in_the_evaluation_tenant() -> None:
    tenant = SETS.tenant
    users = {u["upn"] for u in tenant.users} | {u["displayName"].casefold() for u in tenant.users}
    groups = {g["mail"] for g in tenant.groups} | {g["displayName"].casefold() for g in tenant.groups}
    for case in SETS.labelled:
        if "user" in case.arguments:
            assert case.arguments["user"].casefold() in users, case.text
        if "group" in case.arguments:
            assert case.arguments["group"].casefold() in groups, case.text
        if "sku" in case.arguments:
            assert case.arguments["sku"] in tenant.skus, case.text


def test_no_labelled_or_hostile_message_is_in_the_example_bank() -> None:
    bank = {_norm(message) for message, _, _ in EXAMPLES}
    held_out = [case.text for case in SETS.labelled] + [case.text for case in SETS.hostile]
    overlap = [text for text in held_out if _norm(text) in bank]
    assert not overlap, f"these evaluation messages are also worked examples: {overlap}"


def test_the_sets_have_a_stable_fingerprint() -> None:
    assert load_sets().sha256 == SETS.sha256 and len(SETS.sha256) == 64
    assert len(SETS.hostile) >= 24


def test_the_held_out_emergency_set_is_apart_from_the_bank_and_the_labelled_set() -> None:
    """tests/evaluation/emergency_holdout.json checks the router's cue layer (docs/BENCHMARKS.md, issue 12):
    at least 40 new phrasings in the three languages, questions among them, none a worked example."""
    import json
    from pathlib import Path

    rows = json.loads((Path(__file__).parents[2] / "evaluation" / "emergency_holdout.json").read_text("utf-8"))
    assert len(rows) >= 40 and {row["lang"] for row in rows} == {"en", "de", "fr"}
    assert sum(row["emergency"] for row in rows) >= 20 and sum(not row["emergency"] for row in rows) >= 20
    assert sum(row["text"].rstrip().endswith("?") for row in rows) >= 10
    seen = {_norm(message) for message, _, _ in EXAMPLES} | {_norm(case.text) for case in SETS.labelled}
    overlap = [row["text"] for row in rows if _norm(row["text"]) in seen]
    assert not overlap, f"these held-out messages are also worked examples or labelled cases: {overlap}"


def test_the_phrasing_probe_is_apart_from_the_bank_and_the_labelled_set() -> None:
    """tests/evaluation/phrasing_probe.json: 96 requests as people type them (lower case, typos, hospital
    words, indirect orders, look-ups about licences and groups), each saying when it was written relative to
    the cue changes of 2026-11-27 (docs/BENCHMARKS.md); none a worked example or a labelled case."""
    import json
    from pathlib import Path

    rows = json.loads((Path(__file__).parents[2] / "evaluation" / "phrasing_probe.json").read_text("utf-8"))
    assert len(rows) >= 90 and {row["lang"] for row in rows} == {"en", "de", "fr"}
    assert len({row["written"] for row in rows}) == 3  # three cohorts, each saying what it was seen for
    seen = {_norm(message) for message, _, _ in EXAMPLES} | {_norm(case.text) for case in SETS.labelled}
    overlap = [row["text"] for row in rows if _norm(row["text"]) in seen]
    assert not overlap, f"these probe messages are also worked examples or labelled cases: {overlap}"
