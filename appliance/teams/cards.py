"""The confirmation card as an Adaptive Card (what Teams shows), from the gate's `ActionCard`.

The card protocol is the gate's (titles, buttons per status, what a button carries); this module only
renders it. While the action waits, the card has Confirm and Cancel buttons (Action.Submit carrying the
action id and its hash) and the code a typed confirmation needs ("yes 482913"); after the decision it is
updated in place: the same facts, the decision, no buttons, no code.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory
from botbuilder.schema import Attachment

from appliance.gate import BUTTONS, STATUS_TITLES, card_payload
from appliance.gate.choices import choice_payload
from appliance.types import ActionCard, ChoiceCard

TYPED_HINT = "Or confirm by typing:"
"""A waiting card shows its code after this; only the card shows it, so a typed "yes" proves the card was seen."""


def adaptive_card(card: ActionCard) -> dict[str, Any]:
    """The Adaptive Card JSON (schema 1.5) for `card`."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": STATUS_TITLES[card.status], "weight": "Bolder", "size": "Medium"},
        {"type": "TextBlock", "text": card.summary, "wrap": True},
        {"type": "FactSet", "facts": [
            {"title": "Tool", "value": card.tool},
            {"title": "Target", "value": card.target},
            {"title": "Graph operation", "value": card.graph_operation},
            {"title": "Expires", "value": card.expires_at},
            {"title": "Action", "value": card.action_id},
        ]},
    ]
    if card.status_line:
        body.append({"type": "TextBlock", "text": card.status_line, "wrap": True, "isSubtle": True})
    if card.confirm_code and card.status == "awaiting":
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True,
                     "text": f"{TYPED_HINT} yes {card.confirm_code}"})
    actions = [
        {"type": "Action.Submit", "title": decision.title(), "style": style,
         "data": card_payload(decision, card.action_id, card.action_hash)}
        for decision, style in BUTTONS.get(card.status, ())
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "actions": actions,
    }


def card_attachment(card: ActionCard) -> Attachment:
    """`card` as a Bot Framework attachment."""
    return CardFactory.adaptive_card(adaptive_card(card))


def choice_card(card: ChoiceCard) -> dict[str, Any]:
    """The Adaptive Card asking which person or group was meant: one button per option."""
    facts = [{"title": f"{i + 1}. {o.display_name}", "value": " \u00b7 ".join(p for p in (o.key, o.department) if p)}
             for i, o in enumerate(card.options)]
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": card.question, "wrap": True, "weight": "Bolder"},
                 {"type": "FactSet", "facts": facts}],
        "actions": [{"type": "Action.Submit", "title": f"{i + 1}. {o.display_name}",
                     "data": choice_payload(card.choice_id, i)} for i, o in enumerate(card.options)],
    }
