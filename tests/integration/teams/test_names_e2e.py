"""Issue 12 end to end through `appliance serve --dev` (the real model, botbuilder, msal, msgraph-sdk,
SQLCipher, the dev tenant): a name resolved to one person, a choice card for two, a group by name, "E3"
resolved to the tenant's SKU, the pending-actions listing and cancel, and a rendered `reply` intent.
Each test talks as its own helpdesk member, so one test's history never steers the model in another."""

from __future__ import annotations

from typing import Any

from appliance.catalog.replies import render_reply
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_text
from tests.integration.teams.conftest import cards, texts

HANA, IVO, JO, DOUG = "hana.berg@contoso.com", "ivo.petrov@contoso.com", "jo.kim@contoso.com", "doug@contoso.com"


def _summary(events: list[dict[str, Any]]) -> str:
    found = cards(events)
    assert found, f"expected a card, got {texts(events)}"
    return card_text(found[-1])[1]


def test_a_name_resolves_to_one_person_and_the_card_names_them(stack: DevStack, teams: DevTeamsClient) -> None:
    _, events = teams.ask(HANA, "Lee Vere left, disable his account")
    assert _summary(events) == "Disable the account of Lee Vere (leaver@contoso.com) (block sign-in)"
    assert stack.tenant is not None and stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"]


def test_two_people_of_that_name_give_a_choice_card_that_continues_the_request(
    stack: DevStack, teams: DevTeamsClient
) -> None:
    _, events = teams.ask(IVO, "disable Tom")
    (choice,) = cards(events)
    assert choice["body"][0]["text"].startswith("Several people are called \u201cTom\u201d")
    facts = card_text(choice)[1:]
    assert facts == ["1. Tom Becker: tom.becker@contoso.com \u00b7 Finance",
                     "2. Tom Fischer: tom.fischer@contoso.com \u00b7 Radiology"]
    _, picked = teams.ask(IVO, value=button_data(choice, "2. Tom Fischer"))
    assert _summary(picked) == "Disable the account of Tom Fischer (tom.fischer@contoso.com) (block sign-in)"


def test_a_group_by_name_and_e3_by_its_friendly_name(stack: DevStack, teams: DevTeamsClient) -> None:
    _, events = teams.ask(JO, "Add sarah.lin@contoso.com to the Finance group")
    assert _summary(events) == "Add sarah.lin@contoso.com to the group Finance (finance@contoso.com)"
    _, events = teams.ask(JO, "Give mike.chan@contoso.com an E3 license")
    assert _summary(events) == "Assign ENTERPRISEPACK to mike.chan@contoso.com"


def test_pending_actions_are_listed_and_cancelled(stack: DevStack, teams: DevTeamsClient) -> None:
    teams.ask(DOUG, "Reset the password of priya.n@contoso.com")
    _, listed = teams.ask(DOUG, "what's waiting for me?")
    assert any(t.startswith("1 of your changes wait") and "priya.n@contoso.com" in t for t in texts(listed)), (
        texts(listed))
    _, cancelled = teams.ask(DOUG, "cancel all my pending changes")
    assert any(t.startswith("Cancelled: Reset the password of priya.n@contoso.com") for t in texts(cancelled))
    assert cards(cancelled)[-1]["body"][0]["text"] == "Cancelled"


def test_a_reply_is_a_rendered_intent_never_model_text(stack: DevStack, teams: DevTeamsClient) -> None:
    _, events = teams.ask(HANA, "thank you")
    assert texts(events) == [render_reply({"intent": "thanks", "about": "none"})]
