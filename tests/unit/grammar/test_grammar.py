"""Catalog -> schema union -> Lark/GBNF, grounding, bounds, and the drift check of grammars/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import llguidance
import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.errors import GrammarError
from appliance.grammar import Grounding, max_output_bytes, max_tokens, to_lark, tool_call_schema
from appliance.grammar.artifacts import render_artifacts
from appliance.grammar.gbnf import to_gbnf
from appliance.grammar.pattern import max_encoded_bytes, parse_pattern

GRAMMARS = Path(__file__).resolve().parents[3] / "grammars"


def test_generated_artifacts_match_the_committed_grammars() -> None:
    """Drift: change the catalog, then run `appliance grammar build` and commit the result."""
    for name, text in render_artifacts(DEFAULT_CATALOG).items():
        assert (GRAMMARS / name).read_text(encoding="utf-8") == text, f"grammars/{name} is stale"


def test_union_has_one_variant_per_enabled_tool() -> None:
    schema = tool_call_schema(DEFAULT_CATALOG.without(["m365_password_reset", "m365_user_disable"]))
    tools = [v["properties"]["tool"]["const"] for v in schema["anyOf"]]
    assert tools == [t for t in DEFAULT_CATALOG if t not in {"m365_password_reset", "m365_user_disable"}]


def test_lark_compiles_in_llguidance() -> None:
    grammar = llguidance.LLMatcher.grammar_from_lark(to_lark(tool_call_schema(DEFAULT_CATALOG)))
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    assert not is_error, messages


def test_grounding_narrows_directory_arguments_to_mentioned_addresses() -> None:
    grounding = Grounding.from_texts(["Add Sarah.Lin@contoso.com to finance@contoso.com please."])
    assert grounding.values["user"] == ("sarah.lin@contoso.com", "finance@contoso.com")
    schema = tool_call_schema(DEFAULT_CATALOG, grounding)
    get = next(v for v in schema["anyOf"] if v["properties"]["tool"]["const"] == "m365_user_get")
    assert get["properties"]["arguments"]["properties"]["user"] == {
        "type": "string",
        "enum": ["sarah.lin@contoso.com", "finance@contoso.com"],
    }
    good = {"tool": "m365_user_get", "arguments": {"user": "sarah.lin@contoso.com"}}
    invented = {"tool": "m365_user_get", "arguments": {"user": "eve@contoso.com"}}
    jsonschema.validate(good, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(invented, schema)


def test_a_message_naming_nobody_leaves_only_tools_without_directory_targets() -> None:
    schema = tool_call_schema(DEFAULT_CATALOG, Grounding.from_texts(["reset the password please"]))
    tools = {v["properties"]["tool"]["const"] for v in schema["anyOf"]}
    assert tools == {"reply", "m365_license_list", "m365_audit_query", "aid_pending_list", "aid_pending_cancel"}


def test_a_search_looks_for_a_word_or_name_of_the_newest_message_only() -> None:
    schema = tool_call_schema(DEFAULT_CATALOG, Grounding.from_texts(["find Anna Berg", "search for users named Kim"]))
    search = next(v for v in schema["anyOf"] if v["properties"]["tool"]["const"] == "m365_user_search")
    assert search["properties"]["arguments"]["properties"]["query"] == {"type": "string", "enum": ["Kim"]}
    lower = Grounding.from_texts(["search the directory for meier"]).values["search"]
    assert lower == ("directory", "meier")


def test_grounding_keeps_the_newest_sixteen_addresses() -> None:
    texts = [f"user{i}@contoso.com" for i in range(20)]
    values = Grounding.from_texts(texts).values["user"]
    assert len(values) == 16 and values[-1] == "user19@contoso.com" and "user0@contoso.com" not in values


def test_max_tokens_covers_the_longest_valid_output() -> None:
    schema = tool_call_schema(DEFAULT_CATALOG)
    long_user = "a" * 64 + "@" + "b" * 189
    two = {"tool": "m365_group_add_member", "arguments": {"group": long_user, "user": long_user}}
    jsonschema.validate(two, schema)
    assert len(json.dumps(two, separators=(",", ":")).encode()) < max_output_bytes(schema)
    assert max_tokens(schema) == max_output_bytes(schema) + 1


def test_pattern_dialect_parses_catalog_patterns_and_refuses_others() -> None:
    atoms = parse_pattern(r"^[a-z]{1,3}@[0-9]{2,2}$")
    assert [(a.char_class, a.min, a.max, a.literal) for a in atoms] == [
        ("a-z", 1, 3, None), (None, 1, 1, "@"), ("0-9", 2, 2, None)
    ]
    assert max_encoded_bytes(r"^[a-z]{1,3}$") == 18
    assert max_encoded_bytes(r"^[^a]{1,3}$") == 36
    for bad in (r"[a-z]{1,3}", r"^[a-z]+$", r"^(a|b)$", r"^[a-z]{3,1}$"):
        with pytest.raises(GrammarError):
            parse_pattern(bad)


def test_gbnf_has_a_rule_per_tool_and_bounded_repetitions() -> None:
    gbnf = to_gbnf(tool_call_schema(DEFAULT_CATALOG))
    root = gbnf.splitlines()[0]
    assert root.startswith("root ::= call-reply | call-m365-user-get")
    assert root.count("call-") == len(DEFAULT_CATALOG)
    outside_classes = re.sub(r'\[(?:\\.|[^\]\\])*\]|"(?:\\.|[^"\\])*"', "", gbnf)
    assert "+" not in outside_classes and "*" not in outside_classes  # every repetition is bounded
    assert "[A-Za-z0-9 ._%+'@\\u00c0-\\u024f-]{1,254}" in gbnf  # a user or group: an address or a name


def test_gbnf_refuses_a_class_that_admits_a_quote() -> None:
    schema = {"anyOf": [{"type": "object", "properties": {"tool": {"const": "reply"}, "arguments": {
        "type": "object", "properties": {"text": {"type": "string", "pattern": r"^[^\x00]{1,5}$"}}}}}]}
    with pytest.raises(GrammarError, match="quote"):
        to_gbnf(schema)
