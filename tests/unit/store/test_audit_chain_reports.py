"""What `verify_chain` tells an operator, exactly; and that the hashed form refuses values JSON cannot
carry faithfully (NaN, infinities), so no record can hash differently on another reader."""

from __future__ import annotations

import math
from typing import Any

import pytest

from appliance.store.audit_chain import GENESIS_HASH, canonical_json, chained, verify_chain

RECORD = {"ToolName": "m365_user_disable", "Outcome": "Success", "RequestedBy": "doug@contoso.com"}


def _chain(n: int) -> list[tuple[int, dict[str, Any]]]:
    rows, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = chained({**RECORD, "N": seq}, previous)
        rows.append((seq, record))
        previous = record["Hash"]
    return rows


def test_a_broken_link_is_reported_with_the_good_count_and_its_reason() -> None:
    rows = _chain(4)
    del rows[2]  # record 3 removed: record 4 no longer points at its predecessor
    report = verify_chain(rows)
    assert (report.ok, report.checked, report.first_broken) == (False, 2, 4)
    assert report.reason == "its PreviousHash is not the Hash of the record before it"
    assert report.describe() == ("audit chain broken at record 4 (after 2 good ones): "
                                 "its PreviousHash is not the Hash of the record before it")


def test_an_edited_record_is_reported_with_the_good_count_and_its_reason() -> None:
    rows = _chain(3)
    rows[1] = (2, {**rows[1][1], "Outcome": "Failure"})
    report = verify_chain(rows)
    assert (report.ok, report.checked, report.first_broken) == (False, 1, 2)
    assert report.reason == "its content does not match its Hash (edited?)"


def test_an_intact_chain_reports_its_length() -> None:
    report = verify_chain(_chain(3))
    assert (report.ok, report.checked, report.first_broken, report.reason) == (True, 3, None, "")
    assert report.describe() == "audit chain intact: 3 records"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_values_json_cannot_carry_faithfully_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({**RECORD, "Bad": value})


def test_non_ascii_text_is_hashed_as_utf_8_not_escaped() -> None:
    assert canonical_json({"ActionSummary": "Zugang für Jürgen"}) == '{"ActionSummary":"Zugang für Jürgen"}'
