"""A channel token's lifetime (issue 15, item 5), as MicrosoftDocs/bot-docs
articles/rest-api/bot-framework-rest-connector-authentication.md ("Connector to Bot", step 4,
requirement 5) asks: "The token has not yet expired. Industry-standard clock-skew is 5 minutes."
`exp` is required (botbuilder checks it only when present); `nbf` is checked where present."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.teams.auth import CLOCK_SKEW_SECONDS, MAX_TOKEN_SECONDS, require_lifetime

NOW = 1_800_000_000.0


@pytest.mark.parametrize("claims", [
    {"exp": NOW + 3600, "nbf": NOW - 5},
    {"exp": NOW + 3600},  # nbf is optional
    {"exp": NOW - CLOCK_SKEW_SECONDS + 1, "nbf": NOW - 3600},  # expired, but within the documented skew
    {"exp": NOW + 3600, "nbf": NOW + CLOCK_SKEW_SECONDS - 1},  # not valid yet, but within the skew
    {"exp": int(NOW) + MAX_TOKEN_SECONDS},
])
def test_a_token_within_its_lifetime_and_the_skew_is_accepted(claims: dict[str, Any]) -> None:
    require_lifetime(claims, NOW)


@pytest.mark.parametrize(("claims", "why"), [
    ({}, "no numeric exp"),
    ({"nbf": NOW - 5}, "no numeric exp"),
    ({"exp": None}, "no numeric exp"),
    ({"exp": "1900000000"}, "no numeric exp"),
    ({"exp": True}, "no numeric exp"),
    ({"exp": NOW - CLOCK_SKEW_SECONDS}, "expired"),
    ({"exp": NOW + 3600, "nbf": NOW + CLOCK_SKEW_SECONDS + 1}, "not valid yet"),
    ({"exp": NOW + 3600, "nbf": "soon"}, "nbf claim is not a number"),
    ({"exp": NOW + 3600, "nbf": None}, "nbf claim is not a number"),
    ({"exp": NOW + MAX_TOKEN_SECONDS + 1}, "longer than a channel token"),
])
def test_a_missing_or_wrong_lifetime_claim_is_refused(claims: dict[str, Any], why: str) -> None:
    with pytest.raises(PermissionError, match=why):
        require_lifetime(claims, NOW)


def test_the_skew_is_the_documented_five_minutes() -> None:
    assert CLOCK_SKEW_SECONDS == 300
