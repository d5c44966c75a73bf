"""Parsing an inbound body (issue 15, item 4): nesting is bounded before the JSON parser runs, and every
failure is `BadActivity` (400), never another exception (which would have been a 500)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.teams.body import MAX_DEPTH, BadActivity, nesting_depth, parse_activity


def test_nesting_is_counted_outside_strings_only() -> None:
    assert nesting_depth(b'{"a": [1, {"b": "[[[[\\"]]]{{{"}]}') == 3
    assert nesting_depth(b'"\\\\" [') == 1  # an escaped backslash ends before the quote
    assert nesting_depth(b"[]" * 1000) == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 200_000])
def test_a_deeply_nested_body_is_refused_before_parsing(depth: int) -> None:
    with pytest.raises(BadActivity) as refused:
        parse_activity(b"[" * depth + b"]" * depth)
    assert refused.value.reason == "too_deep"
    inside = json.dumps({"type": "message", "value": {"a": []}}).replace("[]", "[" * depth + "]" * depth)
    with pytest.raises(BadActivity):
        parse_activity(inside.encode())


def test_a_real_activity_within_the_limit_parses() -> None:
    body = {"type": "message", "id": "1", "text": "hi", "value": {"a": {"b": {"c": [1, [2, [3]]]}}}}
    assert parse_activity(json.dumps(body).encode()).text == "hi"


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[]", b'"s"', b"{}", b'{"type": ""}',
                                 b"\xff\xfe\x00", b'{"type": "message", "from": 7}',
                                 b'{"type": "message", "timestamp": "not a time"}'])
def test_malformed_bodies_are_bad_activities(raw: bytes) -> None:
    with pytest.raises(BadActivity):
        parse_activity(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
activity_keys = st.sampled_from(["type", "id", "text", "from", "conversation", "channelData", "value", "timestamp",
                                 "serviceUrl", "channelId", "recipient", "attachments", "entities", "locale"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.dictionaries(activity_keys, json_values, max_size=8).map(
    lambda d: json.dumps(d).encode()))
def test_any_body_either_parses_or_is_a_bad_activity(raw: bytes) -> None:
    """Nothing but an activity or BadActivity comes out (pytest fails on any other exception)."""
    with contextlib.suppress(BadActivity):
        assert parse_activity(raw).type
