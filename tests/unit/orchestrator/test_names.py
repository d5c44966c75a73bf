"""Names, not only addresses (issue 12): one match names the person on the card, several give a choice
card whose pick continues the same request, none is said plainly; groups by name too; the model is
grounded on what the directory says each mention is, and license names on the tenant's own SKUs."""

from __future__ import annotations

from appliance.gate.choices import choice_payload
from appliance.types import Mentions
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, Aid


async def test_one_match_names_the_person_on_the_card(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "disable Lee Vere", outbox)
    (card,) = outbox.cards.values()
    assert card.summary == "Disable the account of Lee Vere (leaver@contoso.com) (block sign-in)"
    assert card.target == "leaver@contoso.com" and aid.tools.runs == []
    assert aid.proposer.mentions[-1] == Mentions(users=("Lee Vere",), groups=(), skus=())


async def test_nobody_by_that_name_is_said_plainly(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "disable Zorro", outbox)
    assert outbox.said == ["I found no person called \u201cZorro\u201d in the directory, so nothing was changed. "
                           "Check the spelling or give the address."]
    assert not outbox.cards and not outbox.choices


async def test_two_matches_give_a_choice_card_whose_pick_continues_the_request(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "disable Tom", outbox)
    assert not outbox.cards
    (choice,) = outbox.choices
    assert choice.question.startswith("Several people are called \u201cTom\u201d")
    assert [(o.display_name, o.department) for o in choice.options] == [("Tom Becker", "Finance"),
                                                                        ("Tom Fischer", "Radiology")]

    eve = RecordingOutbox()
    await aid.press(EVE, choice_payload(choice.choice_id, 1), eve, conversation=f"teams://msg/{DOUG.object_id}")
    assert eve.said[0].startswith("That choice is no longer open") and not eve.cards

    await aid.press(DOUG, choice_payload(choice.choice_id, 1), outbox)
    (card,) = outbox.cards.values()
    assert card.summary == "Disable the account of Tom Fischer (tom.fischer@contoso.com) (block sign-in)"
    await aid.press(DOUG, choice_payload(choice.choice_id, 0), outbox)  # a second pick of the same card
    assert outbox.last.startswith("That choice is no longer open") and len(outbox.cards) == 1


async def test_a_group_by_name_and_a_person_by_name(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "put Sarah Lin in Finance", outbox)
    (card,) = outbox.cards.values()
    assert card.summary == "Add Sarah Lin (sarah.lin@contoso.com) to the group Finance (finance@contoso.com)"
    assert card.target == "sarah.lin@contoso.com in finance@contoso.com"


async def test_each_address_is_grounded_as_the_kind_the_directory_says(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "who is sarah.lin@contoso.com, and what is in finance@contoso.com?", outbox)
    mentions = aid.proposer.mentions[-1]
    assert mentions is not None
    assert "sarah.lin@contoso.com" in mentions.users and "sarah.lin@contoso.com" not in mentions.groups
    assert mentions.groups == ("finance@contoso.com",)


async def test_license_names_are_grounded_on_the_tenants_skus(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign an Office 365 E3 license to sarah.lin@contoso.com", outbox)
    assert aid.proposer.mentions[-1] is not None and aid.proposer.mentions[-1].skus == ("ENTERPRISEPACK",)
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com (or Microsoft 365 E3?)", outbox)
    assert aid.proposer.mentions[-1] is not None and aid.proposer.mentions[-1].skus == ("ENTERPRISEPACK",)
