"""The real model with the router choosing the tool (`engine.route_tools = 1`, the default) and the search
query grounded on the message: what issue 12's accuracy rests on, checked on a few messages of no set."""

from __future__ import annotations

import pytest

from appliance.engine.local import LocalOrchestrator
from appliance.types import ContextMessage


def _propose(orchestrator: LocalOrchestrator, text: str) -> tuple[str, dict[str, object]]:
    call = orchestrator.propose([ContextMessage(role="user", text=text)]).call
    return call.tool, call.arguments


def test_the_router_chooses_the_tool_and_the_model_fills_its_arguments(
    orchestrator: LocalOrchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestrator, "route_tools", 1)
    conversation = orchestrator.conversation([ContextMessage(role="user", text="the tablet of x.y@contoso.com was "
                                                                         "stolen, sign x.y@contoso.com out")])
    grammar = orchestrator.grammar_for(conversation)
    assert [v["properties"]["tool"]["const"] for v in grammar.schema["anyOf"]] == ["m365_sessions_revoke"]
    assert _propose(orchestrator, "Karim Haddad quit last week, please deactivate him") == (
        "m365_user_disable", {"user": "Karim Haddad"})


def test_a_search_looks_for_a_word_of_the_message_never_an_example_name(
    orchestrator: LocalOrchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestrator, "route_tools", 1)
    tool, arguments = _propose(orchestrator, "look for people named Haddad")
    assert (tool, arguments) == ("m365_user_search", {"query": "Haddad"})
