"""The sentences of `reply`: the model picks an intent and a topic, the appliance says the words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CAN_DO = ("look people up, find them by name, block or unblock sign-in, sign someone out everywhere, reset a "
          "password, change a job title, department or office, list, assign and remove licenses, list and change "
          "group members, show MFA methods and recent sign-ins, and show what I changed")

WHO = {
    "account": "Whose account do you mean?",
    "password": "Whose password should I reset?",
    "sessions": "Who should I sign out everywhere?",
    "license": "Who is the license for?",
    "group": "Who should I add or remove?",
    "profile": "Whose details should I change?",
    "mfa": "Whose MFA methods should I show?",
    "sign_ins": "Whose sign-ins should I show?",
}

SENTENCES = {
    "greeting": "Hello! I can " + CAN_DO + ". Changes run only after you confirm them.",
    "thanks": "You're welcome.",
    "capabilities": "I can " + CAN_DO + ". Changes run only after you confirm them.",
    "ask_who": "{who} Tell me their name or address.",
    "ask_which_license": "Which license do you mean (for example E3, E5 or F3)? Ask \u201cwhich licenses do we "
    "have?\u201d to see the tenant's.",
    "ask_which_group": "Which group do you mean? Tell me its name or address.",
    "out_of_scope": "That is outside what I do: I can " + CAN_DO + ".",
    "cannot_do": "I can't do that; your IT team can. I can " + CAN_DO + ".",
}


def render_reply(arguments: Mapping[str, Any]) -> str:
    """The sentence for a validated `reply` call (its `intent` and `about`)."""
    intent = str(arguments["intent"])
    who = WHO.get(str(arguments.get("about", "none")), "Who do you mean?")
    return SENTENCES[intent].format(who=who)


def reply_shape(arguments: Mapping[str, Any]) -> str:
    """How a reply is remembered in the conversation (its intent and topic, not the sentence)."""
    return f"reply(intent={arguments['intent']}, about={arguments.get('about', 'none')})"
