"""Property tests over the real vocabulary: the grammar's language is exactly the schema's, and the
two constraint backends (llguidance, outlines) accept and reject the same outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import llguidance
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.llguidance_backend import llguidance_tokenizer
from appliance.engine.local import LocalOrchestrator
from appliance.engine.outlines_backend import OutlinesConstraint, compile_outlines, outlines_vocabulary
from appliance.engine.runtime import LlamaRuntime
from appliance.grammar import Grounding, to_lark, tool_call_schema

ADDRESSES = ["sarah.lin@contoso.com", "finance@contoso.com", "o'neil_x+1@sub.contoso.co.uk"]
GROUNDING = Grounding.from_texts([" ".join(ADDRESSES)])
SCHEMA = tool_call_schema(DEFAULT_CATALOG, GROUNDING)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def llg_grammar(orchestrator: LocalOrchestrator) -> tuple[llguidance.LLTokenizer, str]:
    tokenizer = llguidance_tokenizer(orchestrator.runtime)
    return tokenizer, llguidance.LLMatcher.grammar_from_lark(to_lark(SCHEMA))


@pytest.fixture(scope="module")
def outlines(orchestrator: LocalOrchestrator, tmp_path_factory: pytest.TempPathFactory) -> OutlinesConstraint:
    runtime = orchestrator.runtime
    cache = Path(tmp_path_factory.mktemp("outlines-cache"))
    _, hit = compile_outlines(SCHEMA, outlines_vocabulary(runtime), runtime, "test", cache)
    assert not hit
    again, hit = compile_outlines(SCHEMA, outlines_vocabulary(runtime), runtime, "test", cache)
    assert hit  # the disk cache serves the second compile
    return again


def _compact(obj: Any) -> str:
    """The one spelling both grammars accept: compact JSON, keys in schema order."""
    variant = next(v for v in SCHEMA["anyOf"] if v["properties"]["tool"]["const"] == obj.get("tool"))
    order = list(variant["properties"]["arguments"]["properties"])
    arguments = obj["arguments"]
    ordered = {k: arguments[k] for k in order if k in arguments}
    ordered |= {k: v for k, v in arguments.items() if k not in order}
    return json.dumps({"tool": obj["tool"], "arguments": ordered}, separators=(",", ":"), ensure_ascii=False)


def llg_accepts(grammar: tuple[llguidance.LLTokenizer, str], runtime: LlamaRuntime, text: str) -> bool:
    tokenizer, compiled = grammar
    matcher = llguidance.LLMatcher(tokenizer, compiled, log_level=0)
    tokens = runtime.tokenize(text)
    return matcher.consume_tokens(tokens) and matcher.is_accepting()


def outlines_accepts(constraint: OutlinesConstraint, runtime: LlamaRuntime, text: str) -> bool:
    state = constraint.start()
    for token in runtime.tokenize(text):
        if not state.accepts(token):
            return False
        state.advance(token)
    return state.accepts(runtime.eos)


def _args_strategy(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    variant = next(v for v in SCHEMA["anyOf"] if v["properties"]["tool"]["const"] == tool)
    fields = {}
    for name, prop in variant["properties"]["arguments"]["properties"].items():
        if "enum" in prop:
            fields[name] = st.sampled_from(prop["enum"])
        else:
            fields[name] = st.from_regex(prop["pattern"], fullmatch=True)
    return st.fixed_dictionaries(fields)


TOOLS = [v["properties"]["tool"]["const"] for v in SCHEMA["anyOf"]]
valid_calls = st.sampled_from(TOOLS).flatmap(
    lambda tool: _args_strategy(tool).map(lambda args: {"tool": tool, "arguments": args})
)


@SLOW
@given(call=valid_calls)
def test_every_valid_object_is_accepted_by_both_backends(
    orchestrator: LocalOrchestrator, llg_grammar: Any, outlines: OutlinesConstraint, call: dict[str, Any]
) -> None:
    jsonschema.validate(call, SCHEMA)
    text = _compact(call)
    assert llg_accepts(llg_grammar, orchestrator.runtime, text), text
    assert outlines_accepts(outlines, orchestrator.runtime, text), text


@SLOW
@given(data=st.data())
def test_every_object_the_grammar_generates_validates(
    orchestrator: LocalOrchestrator, llg_grammar: Any, data: st.DataObject
) -> None:
    """Random walks through llguidance's mask: whatever the grammar lets out is a valid catalog call."""
    tokenizer, compiled = llg_grammar
    runtime = orchestrator.runtime
    matcher = llguidance.LLMatcher(tokenizer, compiled, log_level=0)
    tokens: list[int] = []
    for _ in range(400):
        if matcher.is_stopped():
            break
        mask = matcher.compute_bitmask()
        allowed = [i for i in range(runtime.n_vocab) if mask[i // 8] >> (i % 8) & 1 and i != runtime.eos]
        if not allowed:
            break
        token = data.draw(st.sampled_from(allowed[:64] + allowed[-64:]))
        assert matcher.consume_token(token)
        tokens.append(token)
    assert matcher.is_accepting()
    obj = json.loads(runtime.detokenize(tokens))
    jsonschema.validate(obj, SCHEMA)
    DEFAULT_CATALOG.validate_call(obj["tool"], obj["arguments"])


def _mutations(call: dict[str, Any]) -> list[str]:
    text = _compact(call)
    return [
        text[:-1],  # cut short
        text + "}",  # trailing garbage
        text.replace('"tool":"', '"tool":"x', 1),  # unknown tool
        text.replace("{", '{"extra":1,', 1),  # extra key
        _compact(call).replace(",", ", ", 1),  # whitespace (compact JSON only)
        text.replace("@contoso.com", "@evil.example", 1),  # ungrounded address
        _compact({**call, "arguments": {**call["arguments"], "zzz": "1"}}),  # extra argument
    ]


@SLOW
@given(call=valid_calls)
def test_backends_agree_on_valid_and_mutated_outputs(
    orchestrator: LocalOrchestrator, llg_grammar: Any, outlines: OutlinesConstraint, call: dict[str, Any]
) -> None:
    runtime = orchestrator.runtime
    for text in [_compact(call), *_mutations(call)]:
        try:
            jsonschema.validate(json.loads(text), SCHEMA)
            valid = True
        except (ValueError, jsonschema.ValidationError):
            valid = False
        if ", " in text and ", " not in _compact(call):
            valid = False  # valid JSON, but not the compact form both grammars require
        assert llg_accepts(llg_grammar, runtime, text) == valid, text
        assert outlines_accepts(outlines, runtime, text) == valid, text


def test_the_grammar_spells_an_integer_literal_only_as_the_integer(
    llg_grammar: tuple[llguidance.LLTokenizer, str], orchestrator: LocalOrchestrator
) -> None:
    """What validate_call refuses (JSON `true` for 1, `7.0` for 7) the grammar never emits either."""
    call = '{"tool":"m365_signins_recent","arguments":{"user":"sarah.lin@contoso.com","days":%s}}'
    assert llg_accepts(llg_grammar, orchestrator.runtime, call % "7")
    for days in ("true", "false", "7.0", "1.0", "7e0", '"7"'):
        assert not llg_accepts(llg_grammar, orchestrator.runtime, call % days), days
