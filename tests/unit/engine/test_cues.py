"""The cue layer (engine/cues.toml, cues.py) and how the router combines it (router.combined): a cue names
its tool in English, German and French, inflected and with a typo; a question or look-up is never pulled
to a state change; a situation does not override a different change the person asked for."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from appliance.engine.cues import CUES_FILE, CueLexicon, cue_text, one_edit_apart
from appliance.engine.examples import EXAMPLES
from appliance.engine.router import IntentRouter, combined

LEXICON = CueLexicon.load()
DISABLE, REVOKE, ENABLE = "m365_user_disable", "m365_sessions_revoke", "m365_user_enable"
ADD, REMOVE = "m365_group_add_member", "m365_group_remove_member"
ASSIGN, UNASSIGN = "m365_license_assign", "m365_license_remove"
AUDIT, PERSON = "m365_audit_query", "m365_user_get"
WRITES = frozenset({DISABLE, REVOKE, ENABLE, UNASSIGN, "m365_password_reset"})


def test_every_entry_is_written_as_messages_are_normalised() -> None:
    """An accent or capital in the file would never match: "désactiv" must be written "desactiv"."""
    data = tomllib.loads(resources.files("appliance.engine").joinpath(CUES_FILE).read_text("utf-8"))
    words = [w for key in ("openings", "lookups", "requests", "greetings") for w in data["question"][key]]
    for entry in data["cue"]:
        words += [s.rstrip("~") for key in ("stems", "nouns", "also_stems") for s in entry.get(key, [])]
    wrong = {word: cue_text(word) for word in words if cue_text(word) != word}
    assert not wrong, f"write these as normalised: {wrong}"


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("please lock Quentin Abel's account", DISABLE),
        ("Deactivating the user Zora Kim now", DISABLE),
        ("Sperrt bitte den Zugang von Quentin Abel", DISABLE),
        ("Das Konto von Zora Kim muss gesperrt werden", DISABLE),
        ("Deaktivieren Sie Quentin Abel", DISABLE),
        ("Bloquez le compte de Zora Kim", DISABLE),
        ("désactivez l'utilisateur Quentin Abel", DISABLE),
        ("disbale Zora Kim", DISABLE),  # two letters swapped
        ("sign Quentin Abel out of every device", REVOKE),
        ("Melde Zora Kim bitte auf allen Geräten ab", REVOKE),
        ("Bitte beende alle Sitzungen von Zora Kim", REVOKE),  # a German noun is capitalised
        ("Greg Hall was let go. Lock him out.", DISABLE),  # a new sentence may start with the order
        ("Déconnectez Quentin Abel de toutes les sessions", REVOKE),
        ("revoke the sesions of Zora Kim", REVOKE),  # a letter missing
        ("Entsperre Quentin Abel", ENABLE),
        ("Réactivez le compte de Zora Kim", ENABLE),
        ("unblock Zora Kim", ENABLE),
        ("remove the block on Zora Kim", ENABLE),  # "the block" is a noun, not the order
        ("Bitte die Sperre von Quentin Abel aufheben", ENABLE),
        ("Lève le blocage du compte de Zora Kim", ENABLE),
        ("add Zora Kim to the Night Sessions group", ADD),  # a group's name is no order to sign out
        ("Quentin Abel should be in the Radiology group", ADD),
        ("Bitte füge Zora Kim zur Gruppe Einkauf hinzu", ADD),
        ("ajoute Quentin Abel au groupe urgences", ADD),
        ("take Zora Kim out of the finance group", REMOVE),
        ("Entferne Quentin Abel aus der Gruppe Einkauf", REMOVE),
        ("retire Zora Kim du groupe finance", REMOVE),
        ("asign an E3 licence to Quentin Abel", ASSIGN),  # a letter missing
        ("Zora Kim needs an F3 license", ASSIGN),
        ("Gib Quentin Abel eine E5 Lizenz", ASSIGN),
        ("remvoe the F3 license of Zora Kim", UNASSIGN),  # two letters swapped
        ("take the E3 off Quentin Abel", UNASSIGN),
        ("Entzieh Zora Kim die E5 Lizenz", UNASSIGN),
    ],
)
def test_an_action_cue_names_its_tool(text: str, tool: str) -> None:
    reading = LEXICON.read(text)
    assert reading.actions == {tool} and not reading.question


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("Quentin Abel got sacked yesterday", DISABLE),
        ("Zora Kim hat zum Monatsende gekündigt", DISABLE),
        ("Quentin Abel ist nicht mehr bei uns", DISABLE),
        ("Zora Kim a été licenciée", DISABLE),
        ("Quentin Abel ne travaille plus chez nous", DISABLE),
        ("Zora Kim's phone was stollen on the train", REVOKE),
        ("Das Diensthandy von Quentin Abel ist verloren", REVOKE),
        ("Zora Kim a perdu son portable", REVOKE),
        ("Quentin Abel clicked a phishing link", REVOKE),
        ("Das Konto von Zora Kim ist kompromittiert", REVOKE),
        ("le compte de Quentin Abel est compromis", REVOKE),
    ],
)
def test_a_situation_cue_names_its_tool(text: str, tool: str) -> None:
    assert LEXICON.read(text).situations == {tool}


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("who removed Zora Kim from the finance group?", AUDIT),
        ("did anyone reset Quentin Abel's password this week?", AUDIT),
        ("show me what the aid did yesterday", AUDIT),
        ("Wer hat gestern das Konto von Zora Kim gesperrt?", AUDIT),
        ("Qui a désactivé le compte de Quentin Abel ?", AUDIT),
        ("what licenses does Zora Kim have?", PERSON),
        ("does Quentin Abel have an E5 license?", PERSON),
        ("Welche Lizenzen hat Zora Kim?", PERSON),
    ],
)
def test_a_look_up_cue_puts_its_read_only_tool_first_in_a_question(text: str, tool: str) -> None:
    reading = LEXICON.read(text)
    assert reading.question and tool in reading.lookups
    ranked = [("m365_group_remove_member", 0.9), ("m365_license_list", 0.8), (tool, 0.1), ("reply", 0.05)]
    assert combined(ranked, reading, WRITES | {"m365_group_remove_member"})[0][0] == tool


def test_a_look_up_cue_is_no_order_and_an_order_is_no_look_up() -> None:
    """ "how many licences do we have left" is the tenant's SKUs, not a person's; an order keeps its tool."""
    assert not LEXICON.read("how many E3 licenses do we have left").lookups
    assert not LEXICON.read("Welche Lizenzen haben wir noch frei?").lookups
    order = LEXICON.read("remove Zora Kim from the finance group")
    assert not order.question and order.actions == {REMOVE}
    ranked = [(REMOVE, 0.5), (AUDIT, 0.4)]
    assert combined(ranked, order, WRITES | {REMOVE})[0][0] == REMOVE


@pytest.mark.parametrize(
    "text",
    [
        "reactivate Zora Kim",  # one letter from "deactivate", but a word of its own
        "entsperre das Konto",  # "sperr" only at a word start
        "Anmeldungen von Zora Kim",  # one letter from "abmeld", but sign-ins, not sign-out
        "mail leaver@contoso.com the form",  # an address is no leaver
        "Quentin Abel lost his MFA code",  # lost, but no device
        "kick Zora Kim out of qaddress",  # out of a group is a group change
        "kick Zora Kim out of the finance group",
        "set the department of Zora Kim to Block C",  # a capitalised word in mid-clause is a value
        "add Zora Kim to the Night Sessions group",  # ... or a name
    ],
)
def test_words_near_a_cue_do_not_match_it(text: str) -> None:
    reading = LEXICON.read(text)
    assert DISABLE not in reading.actions | reading.situations
    assert REVOKE not in reading.actions | reading.situations


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("which accounts did we lock yesterday?", True),
        ("Ist Zora Kim deaktiviert?", True),
        ("Le compte de Quentin Abel est-il bloqué ?", True),
        ("show the sign-ins of Zora Kim, she was phished", True),
        ("please list who was disabled this week", True),
        ("Zora Kim lost her phone, show me her sign-ins", True),  # a look-up in any clause
        ("can you disable Zora Kim?", False),
        ("Kannst du Quentin Abel sperren?", False),
        ("Pouvez-vous déconnecter Zora Kim ?", False),
        ("disable Zora Kim", False),
    ],
)
def test_a_question_or_look_up_is_told_from_a_polite_order(text: str, question: bool) -> None:
    assert LEXICON.is_question(text) is question


@pytest.mark.parametrize(
    "text",
    [
        "which accounts did we lock yesterday?",
        "Wurde Quentin Abel schon gesperrt?",
        "Zora Kim a-t-elle été déconnectée de ses sessions ?",
        "did Quentin Abel sign in after his laptop was stolen?",
    ],
)
def test_the_bank_router_never_pulls_a_question_to_a_state_change(text: str) -> None:
    first = IntentRouter(EXAMPLES).rank(text)[0][0]
    assert first not in {DISABLE, REVOKE, ENABLE}, (text, first)


def test_tiers_question_then_action_then_situation() -> None:
    ranked = [("m365_user_get", 0.5), (DISABLE, 0.4), (REVOKE, 0.3), ("reply", 0.1)]
    ask = LEXICON.read("is Zora Kim locked?")
    assert [t for t, _ in combined(ranked, ask, WRITES)] == ["m365_user_get", "reply"]
    both = LEXICON.read("Zora Kim was fired, sign her out everywhere")
    assert combined(ranked, both, WRITES)[0][0] == REVOKE  # the action says what, the situation why
    why = LEXICON.read("Zora Kim was fired today")
    assert combined(ranked, why, WRITES)[0][0] == DISABLE
    assert combined(ranked, why, WRITES)[0][1] == 0.4  # the scores stay the neighbours'


def test_a_situation_does_not_override_another_change_the_person_asked_for() -> None:
    ranked = [("m365_license_remove", 0.5), (DISABLE, 0.4), ("reply", 0.1)]
    reading = LEXICON.read("Zora Kim left, take her E5 away")
    assert reading.situations == {DISABLE}
    assert combined(ranked, reading, WRITES)[0][0] == "m365_license_remove"


def test_a_cue_whose_tool_is_not_allowed_changes_nothing() -> None:
    ranked = [("reply", 0.3), ("m365_user_get", 0.2)]  # the grounded grammar left no disable
    reading = LEXICON.read("disable his account, he quit")
    assert combined(ranked, reading, WRITES) == ranked
    router, allowed, text = IntentRouter(EXAMPLES), ["reply", "m365_user_get"], "disable his account, he quit"
    assert router.rank(text, allowed) == router.similar(text, allowed)


def test_one_edit_apart_counts_one_typo_only() -> None:
    assert one_edit_apart("disbal", "disabl") and one_edit_apart("stollen", "stolen")
    assert one_edit_apart("sesion", "session") and one_edit_apart("revoce", "revoke")
    assert not one_edit_apart("dsiabel", "disabl") and not one_edit_apart("resign", "rehire")
