"""The intent router (engine/router.py): what it masks, and how it ranks tools on a small bank."""

from __future__ import annotations

import pytest

from appliance.engine import router
from appliance.engine.router import IntentRouter, masked, normalized

BANK = [
    ("block sign-in for ben.ode@example.org", "m365_user_disable", {}),
    ("Ben Ode has left, deactivate his account", "m365_user_disable", {}),
    ("reset the password of anna.berg@example.org", "m365_password_reset", {}),
    ("Anna Berg forgot her password", "m365_password_reset", {}),
    ("which licenses do we own?", "m365_license_list", {}),
    ("is the account of Anna Berg blocked? the password was reset", "m365_user_get", {}),
    ("show the profile of ben.ode@example.org", "m365_user_get", {}),
]


def test_addresses_names_and_license_names_become_placeholders() -> None:
    text = masked("Give Lukas Meier an E3 license (ENTERPRISEPACK), cc tom.b@contoso.com")
    assert "Lukas" not in text and "Meier" not in text and "tom.b" not in text
    assert text.split().count("qsku") == 2 and "qname" in text and "qaddress" in text
    assert normalized("Désactive Marie Laurent") == normalized("désactive Tom Becker")


def test_a_typo_and_another_person_still_find_the_tool() -> None:
    router = IntentRouter(BANK)
    assert router.rank("pasword reset for Jane Roe please")[0][0] == "m365_password_reset"
    assert router.rank("Klaus Weber left us, disable him")[0][0] == "m365_user_disable"


def test_a_tool_is_scored_by_its_two_nearest_examples_not_one_lucky_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Lee Vere password blocked, reset"  # the look-up example shares the most words, one example only
    monkeypatch.setattr(router, "NEIGHBOURS", 1)
    assert IntentRouter(BANK).rank(text)[0][0] == "m365_user_get"
    monkeypatch.setattr(router, "NEIGHBOURS", 2)
    assert IntentRouter(BANK).rank(text)[0][0] == "m365_password_reset"


def test_top_keeps_only_allowed_tools_and_ranks_unknown_ones_last() -> None:
    router = IntentRouter(BANK)
    assert router.top("deactivate ben.ode@example.org", 2, ["m365_password_reset", "m365_user_disable"]) == [
        "m365_user_disable", "m365_password_reset"]
    assert router.top("hello", 3, ["reply", "m365_license_list"]) == ["m365_license_list", "reply"]
