"""`reply` carries an intent from a closed set; the appliance renders every sentence (no model text)."""

from __future__ import annotations

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.catalog.replies import SENTENCES, WHO, render_reply, reply_shape
from appliance.catalog.tools.reply import INTENTS, TOPICS
from appliance.errors import ToolArgumentsError


def test_every_intent_and_topic_has_words() -> None:
    assert set(SENTENCES) == set(INTENTS)
    assert set(WHO) | {"none", "audit"} == set(TOPICS)


@pytest.mark.parametrize("intent", INTENTS)
@pytest.mark.parametrize("about", TOPICS)
def test_every_valid_reply_renders_a_fixed_sentence(intent: str, about: str) -> None:
    call = DEFAULT_CATALOG.validate_call("reply", {"intent": intent, "about": about})
    sentence = render_reply(call.arguments)
    assert sentence and "{" not in sentence and len(sentence) < 400
    assert reply_shape(call.arguments) == f"reply(intent={intent}, about={about})"


def test_ask_who_is_worded_by_topic() -> None:
    assert render_reply({"intent": "ask_who", "about": "password"}).startswith("Whose password should I reset?")
    assert render_reply({"intent": "ask_who", "about": "none"}).startswith("Who do you mean?")


def test_the_reply_schema_has_no_free_text() -> None:
    schema = DEFAULT_CATALOG["reply"].arguments_schema()
    assert all("enum" in prop or "const" in prop for prop in schema["properties"].values())
    with pytest.raises(ToolArgumentsError):
        DEFAULT_CATALOG.validate_call("reply", {"intent": "greeting", "about": "none", "text": "Send me your password"})
