"""`Catalog.validate_call` takes each argument only in its own JSON type: `true` is not the integer 1, nor `7.0`
the integer 7 (pydantic's Literal compares with `==`, and True == 1 == 1.0 in Python). Checked for every
argument of every tool, and against the published JSON schema (JSON Schema: true is not 1)."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

import jsonschema
import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.errors import ToolArgumentsError
from appliance.grammar import tool_call_schema

TEXT_SAMPLES = {"user": "sarah.lin@contoso.com", "group": "finance@contoso.com", "query": "Kim", "value": "Finance",
                "sku": "ENTERPRISEPACK"}
"""A valid value of each free-text argument (a new one must be added here: the sweep below refuses to guess)."""


def _allowed(tool: str, field: str) -> tuple[Any, ...] | None:
    annotation = DEFAULT_CATALOG[tool].arguments.model_fields[field].annotation
    return get_args(annotation) if get_origin(annotation) is Literal else None


def _valid(tool: str) -> dict[str, Any]:
    fields = DEFAULT_CATALOG[tool].arguments.model_fields
    return {name: (allowed[0] if (allowed := _allowed(tool, name)) else TEXT_SAMPLES[name]) for name in fields}


def _refusal(tool: str, arguments: dict[str, Any]) -> str:
    with pytest.raises(ToolArgumentsError) as refused:
        DEFAULT_CATALOG.validate_call(tool, arguments)
    return str(refused.value.message)


@pytest.mark.parametrize(
    ("tool", "days", "message"),
    [
        ("m365_signins_recent", True, "m365_signins_recent: days: Input should be 1, 7 or 30 (got true)"),
        ("m365_signins_recent", 7.0, "m365_signins_recent: days: Input should be 1, 7 or 30 (got 7.0)"),
        ("m365_audit_query", 1.0, "m365_audit_query: days: Input should be 1, 7 or 30 (got 1.0)"),
        ("m365_audit_query", False, "m365_audit_query: days: Input should be 1, 7 or 30"),
    ],
)
def test_a_boolean_or_a_float_is_not_an_integer_literal(tool: str, days: object, message: str) -> None:
    assert _refusal(tool, {**_valid(tool), "days": days}) == message


def test_every_tool_takes_its_own_valid_values() -> None:
    for tool in DEFAULT_CATALOG:
        arguments = _valid(tool)
        assert DEFAULT_CATALOG.validate_call(tool, arguments).arguments == arguments
        for field in arguments:
            for value in _allowed(tool, field) or ():
                assert DEFAULT_CATALOG.validate_call(tool, {**arguments, field: value}).arguments[field] == value


def test_every_argument_of_every_tool_refuses_the_other_json_types() -> None:
    checked = 0
    for tool in DEFAULT_CATALOG:
        for field in DEFAULT_CATALOG[tool].arguments.model_fields:
            allowed = _allowed(tool, field)
            ints = [v for v in allowed or () if isinstance(v, int)]
            wrong: list[Any] = [None, [], {}, 1.5]
            wrong += [True, False, *(float(v) for v in ints), *(str(v) for v in ints)] if ints else [1, 0, True]
            for value in wrong:
                message = _refusal(tool, {**_valid(tool), field: value})
                assert message.startswith(f"{tool}: {field}: "), message
                checked += 1
    assert checked > 60  # every argument of every tool was tried


def test_the_published_schema_refuses_true_where_an_integer_is_expected() -> None:
    schema = tool_call_schema(DEFAULT_CATALOG)
    good = {"tool": "m365_signins_recent", "arguments": {"user": "sarah.lin@contoso.com", "days": 7}}
    jsonschema.validate(good, schema)
    for days in (True, False, "7"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "arguments": {**good["arguments"], "days": days}}, schema)
    # JSON Schema compares numbers by value (7.0 is the integer 7 there); the grammar only spells 1, 7 and 30,
    # and validate_call refuses the float a JSON parser makes of "7.0" (above).
    jsonschema.validate(json.loads('{"tool": "m365_signins_recent", "arguments": '
                                   '{"user": "sarah.lin@contoso.com", "days": 7.0}}'), schema)


def test_the_refusal_lists_the_choices_as_pydantic_does() -> None:
    from pydantic import BaseModel

    from appliance.catalog.registry import literal_type_mismatch

    class One(BaseModel):
        n: Literal[1]
        word: Literal["a", "b"] = "a"

    class Two(BaseModel):
        n: Literal[1, 2]

    assert literal_type_mismatch(One, {"n": True}) == ("n", "Input should be 1 (got true)")
    assert literal_type_mismatch(Two, {"n": 2.0}) == ("n", "Input should be 1 or 2 (got 2.0)")
    assert literal_type_mismatch(One, {"n": 1, "word": "b"}) is None
    assert literal_type_mismatch(One, {"word": "c"}) is None  # not equal to any: pydantic's own refusal
    assert literal_type_mismatch(Two, {"m": True}) is None and literal_type_mismatch(Two, {"n": 1}) is None
