"""The catalog registry, exactly: each refusal's words, lookups, disabling, the published description, the
permission list and the fingerprint that keys compiled grammars."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from appliance.catalog import DEFAULT_CATALOG, Catalog
from appliance.catalog.registry import describe
from appliance.errors import CatalogError, ToolArgumentsError, UnknownToolError

REPLY = DEFAULT_CATALOG["reply"]
GET = DEFAULT_CATALOG["m365_user_get"]
ASSIGN = DEFAULT_CATALOG["m365_license_assign"]


def _message(error: pytest.ExceptionInfo[Exception]) -> str:
    return str(error.value.message)  # type: ignore[attr-defined]


def test_construction_refusals_in_their_own_words() -> None:
    with pytest.raises(CatalogError) as twice:
        Catalog([REPLY, GET, GET])
    assert _message(twice) == "tool m365_user_get is registered twice"
    with pytest.raises(CatalogError) as no_reply:
        Catalog([GET])
    assert _message(no_reply) == "the catalog must contain the `reply` tool (the model's way to ask or answer)"
    with pytest.raises(CatalogError) as unchecked:
        Catalog([REPLY, dataclasses.replace(GET, name="m365_Bad")])
    assert "malformed" in _message(unchecked)  # each spec is checked as it is added


def test_lookups_and_membership() -> None:
    catalog = Catalog([REPLY, GET])
    assert catalog["m365_user_get"] is GET and "m365_user_get" in catalog and "m365_user_disable" not in catalog
    assert 42 not in catalog and list(catalog) == ["reply", "m365_user_get"] and len(catalog) == 2
    with pytest.raises(UnknownToolError) as unknown:
        catalog["m365_user_disable"]
    assert _message(unknown) == "unknown tool 'm365_user_disable'"


def test_disabling_keeps_the_order_and_refuses_unknown_names_and_reply() -> None:
    catalog = Catalog([REPLY, GET, ASSIGN])
    assert list(catalog.without(["m365_user_get"])) == ["reply", "m365_license_assign"]
    assert list(catalog.without([])) == list(catalog)
    with pytest.raises(UnknownToolError) as unknown:
        catalog.without(["m365_zz", "m365_aa", "m365_user_get"])
    assert _message(unknown) == "cannot disable unknown tools ['m365_aa', 'm365_zz']"
    with pytest.raises(CatalogError) as reply:
        catalog.without(["reply"])
    assert _message(reply) == "the `reply` tool cannot be disabled"


def test_permissions_are_sorted_and_unique_across_tools() -> None:
    catalog = Catalog([REPLY, GET, ASSIGN, DEFAULT_CATALOG["m365_user_search"]])
    assert catalog.permissions() == sorted({*GET.permissions, *ASSIGN.permissions})
    assert Catalog([REPLY]).permissions() == []


def test_the_fingerprint_is_sha256_of_the_described_tools_in_order() -> None:
    catalog = Catalog([REPLY, GET])
    blob = json.dumps([describe(REPLY), describe(GET)], sort_keys=True)
    assert catalog.fingerprint() == hashlib.sha256(blob.encode()).hexdigest()
    assert Catalog([REPLY, GET]).fingerprint() == catalog.fingerprint()
    renamed = dataclasses.replace(GET, description="Look up one user.")
    assert Catalog([REPLY, renamed]).fingerprint() != catalog.fingerprint()


def test_a_tool_is_described_by_every_public_fact() -> None:
    assert describe(ASSIGN) == {
        "name": "m365_license_assign", "description": ASSIGN.description, "arguments": ASSIGN.arguments_schema(),
        "graph_operation": ASSIGN.graph_operation, "permission": "LicenseAssignment.ReadWrite.All",
        "permissions": list(ASSIGN.permissions), "admin_role": "License Administrator", "changes_state": True,
        "summary_template": "Assign {sku} to {user}",
    }
    assert describe(REPLY)["permission"] is None and describe(REPLY)["permissions"] == []


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("m365_user_get", ["a@b.com"], "arguments of m365_user_get must be an object"),
        ("m365_user_get", {}, "m365_user_get: user: Field required"),
        ("m365_user_get", {"user": "a@b.com", "extra": 1}, "m365_user_get: extra: Extra inputs are not permitted"),
        ("m365_signins_recent", {"user": "a@b.com", "days": "7"},
         "m365_signins_recent: days: Input should be 1, 7 or 30"),
        ("m365_user_get", {"user": b"a@b.com"}, "m365_user_get: user: Input should be a valid string"),  # strict
    ],
)
def test_a_bad_call_is_refused_naming_the_field_and_the_rule(tool: str, arguments: object, message: str) -> None:
    with pytest.raises(ToolArgumentsError) as refused:
        DEFAULT_CATALOG.validate_call(tool, arguments)
    assert _message(refused) == message


def test_a_good_call_comes_back_validated_and_json_shaped() -> None:
    call = DEFAULT_CATALOG.validate_call("m365_signins_recent", {"days": 7, "user": "a@b.com"})
    assert call.tool == "m365_signins_recent" and call.arguments == {"user": "a@b.com", "days": 7}
    assert DEFAULT_CATALOG.validate_call("m365_license_list", {}).arguments == {}
