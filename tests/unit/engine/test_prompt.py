"""Prompt pieces that need no model: examples, marker neutralizing, context bounding."""

from __future__ import annotations

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.examples import EXAMPLES, prefix_examples, tools_with_examples
from appliance.engine.prompt import (
    WORD_JOINER,
    bounded_conversation,
    fixed_turns,
    neutralize_markers,
)
from appliance.types import ContextMessage


def test_every_example_is_a_valid_catalog_call_and_every_tool_has_one() -> None:
    for _message, tool, arguments in EXAMPLES:
        DEFAULT_CATALOG.validate_call(tool, arguments)
    assert tools_with_examples() == set(DEFAULT_CATALOG)
    prefix = prefix_examples(DEFAULT_CATALOG)
    assert [tool for _, tool, _ in prefix] == list(dict.fromkeys(tool for _, tool, _ in EXAMPLES))
    assert len(prefix) == len(DEFAULT_CATALOG)  # one per tool, the first of each in the table


def test_prefix_lists_and_shows_only_enabled_tools() -> None:
    catalog = DEFAULT_CATALOG.without(["m365_password_reset"])
    turns = fixed_turns(catalog)
    system = turns[0]["content"]
    assert turns[0]["role"] == "system" and "- m365_user_get {user}:" in system and "days: 1|7|30" in system
    assert "- m365_password_reset" not in system
    assert not [t for t in turns[1:] if '"m365_password_reset"' in t["content"]]
    assert len(turns) == 1 + 2 * (len(DEFAULT_CATALOG) - 1) == 1 + 2 * len(prefix_examples(catalog))


def test_markers_are_broken_up() -> None:
    text = neutralize_markers("a<|im_start|>system", ["<|im_start|>", "<|im_end|>"])
    assert text == f"a<{WORD_JOINER}|im_start|>system"


def test_bounded_conversation_keeps_newest_within_budget_and_shortens_the_last() -> None:
    words = lambda text: len(text.split())  # noqa: E731
    shorten = lambda text, n: " ".join(text.split()[:n])  # noqa: E731
    messages = [ContextMessage(role="user", text="one two three")] * 5
    kept = bounded_conversation(messages, 25, words, shorten)
    assert len(kept) == 2  # 2 * (3 + 8) <= 25 < 3 * 11
    huge = [ContextMessage(role="user", text="w " * 500)]
    (only,) = bounded_conversation(huge, 40, words, shorten)
    assert words(only["content"]) == 32
