"""The catalog refuses bad tool specs at construction (import) time and validates calls strictly."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pytest
from pydantic import Field

from appliance.catalog import DEFAULT_CATALOG, Catalog, ToolArguments
from appliance.catalog.shapes import Upn
from appliance.errors import CatalogError, ToolArgumentsError, UnknownToolError

REPLY = DEFAULT_CATALOG["reply"]
GET = DEFAULT_CATALOG["m365_user_get"]

# Microsoft's permissions reference: tool -> (least-privileged delegated scope, Aid's Entra role)
EXPECTED_PERMISSIONS = {
    "m365_user_get": ("User.Read.All", None),
    "m365_user_search": ("User.Read.All", None),
    "m365_license_list": ("Organization.Read.All", "Directory Readers"),
    "m365_license_assign": ("LicenseAssignment.ReadWrite.All", "License Administrator"),
    "m365_license_remove": ("LicenseAssignment.ReadWrite.All", "License Administrator"),
    "m365_group_members": ("GroupMember.Read.All", None),
    "m365_group_add_member": ("GroupMember.ReadWrite.All", "Groups Administrator"),
    "m365_group_remove_member": ("GroupMember.ReadWrite.All", "Groups Administrator"),
    "m365_user_disable": ("User.EnableDisableAccount.All", "User Administrator"),
    "m365_user_enable": ("User.EnableDisableAccount.All", "User Administrator"),
    "m365_sessions_revoke": ("User.RevokeSessions.All", "User Administrator"),
    "m365_password_reset": ("User-PasswordProfile.ReadWrite.All", "Helpdesk Administrator"),
    "m365_user_update": ("User.ReadUpdate.All", "User Administrator"),
    "m365_mfa_methods_list": ("UserAuthenticationMethod.Read.All", "Authentication Administrator"),
    "m365_signins_recent": ("AuditLog.Read.All", "Reports Reader"),
}


class FreeText(ToolArguments):
    text: str


class FreeNumber(ToolArguments):
    count: int


class TwoUsers(ToolArguments):
    user: Upn
    other: Annotated[str, Field(max_length=10, pattern=r"^[a-z]{1,10}$")]


def test_the_issue_catalog_is_complete() -> None:
    assert set(DEFAULT_CATALOG) == {"reply", "m365_audit_query", "aid_pending_list", "aid_pending_cancel",
                                    *EXPECTED_PERMISSIONS}


@pytest.mark.parametrize("name", sorted(EXPECTED_PERMISSIONS))
def test_permission_and_role_match_the_reference(name: str) -> None:
    spec = DEFAULT_CATALOG[name]
    assert (spec.permission, spec.admin_role) == EXPECTED_PERMISSIONS[name]


def test_every_state_changing_tool_has_a_summary_naming_its_target() -> None:
    changing = [s for s in DEFAULT_CATALOG.values() if s.changes_state]
    assert len(changing) == 9
    for spec in changing:
        assert spec.summary_template and "{user}" in spec.summary_template


def test_target_keys_name_arguments_the_card_shows_and_failures_name_the_first() -> None:
    membership = DEFAULT_CATALOG["m365_group_add_member"]
    shown = membership.target({"group": "hr@contoso.com", "user": "ann@contoso.com"})
    assert shown == "ann@contoso.com in hr@contoso.com"
    assert DEFAULT_CATALOG["m365_user_search"].target({"query": "Ann"}) == "-"
    with pytest.raises(CatalogError, match="target_keys of m365_user_get name unknown arguments"):
        Catalog([REPLY, dataclasses.replace(GET, target_keys=("victim",))])


def test_the_audit_query_filters_on_exactly_the_state_changing_tools() -> None:
    schema = DEFAULT_CATALOG["m365_audit_query"].arguments_schema()
    changing = [name for name, spec in DEFAULT_CATALOG.items() if spec.changes_state]
    assert schema["properties"]["tool"]["enum"] == ["any", *changing]


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(CatalogError, match="registered twice"):
        Catalog([REPLY, GET, GET])


@pytest.mark.parametrize("bad", ["M365_User", "m365-user-get", "shell", "m365_", "reply2", "m365_" + "x" * 40])
def test_malformed_names_are_refused(bad: str) -> None:
    with pytest.raises(CatalogError, match="malformed"):
        Catalog([REPLY, dataclasses.replace(GET, name=bad)])


def test_state_changing_tool_without_summary_is_refused() -> None:
    spec = dataclasses.replace(DEFAULT_CATALOG["m365_user_disable"], summary_template=None)
    with pytest.raises(CatalogError, match="no summary template"):
        Catalog([REPLY, spec])


def test_summary_naming_an_unknown_argument_is_refused() -> None:
    spec = dataclasses.replace(DEFAULT_CATALOG["m365_user_disable"], summary_template="Disable {victim}")
    with pytest.raises(CatalogError, match="unknown arguments"):
        Catalog([REPLY, spec])


def test_unbounded_string_is_refused() -> None:
    with pytest.raises(CatalogError, match="no maxLength"):
        Catalog([REPLY, dataclasses.replace(GET, arguments=FreeText)])


def test_free_number_is_refused() -> None:
    with pytest.raises(CatalogError, match="free number"):
        Catalog([REPLY, dataclasses.replace(GET, arguments=FreeNumber)])


def test_catalog_without_reply_is_refused() -> None:
    with pytest.raises(CatalogError, match="reply"):
        Catalog([GET])


def test_disabling_tools_removes_them_and_changes_the_fingerprint() -> None:
    smaller = DEFAULT_CATALOG.without(["m365_password_reset"])
    assert "m365_password_reset" not in smaller and len(smaller) == len(DEFAULT_CATALOG) - 1
    assert smaller.fingerprint() != DEFAULT_CATALOG.fingerprint()
    with pytest.raises(UnknownToolError):
        DEFAULT_CATALOG.without(["m365_no_such_tool"])
    with pytest.raises(CatalogError):
        DEFAULT_CATALOG.without(["reply"])


def test_validate_call_accepts_a_good_call_in_canonical_form() -> None:
    call = DEFAULT_CATALOG.validate_call("m365_license_assign", {"user": "a.b@contoso.com", "sku": "SPE_E5"})
    expected = '{"arguments":{"sku":"SPE_E5","user":"a.b@contoso.com"},"tool":"m365_license_assign"}'
    assert call.canonical_json() == expected


@pytest.mark.parametrize(
    ("tool", "arguments", "error"),
    [
        ("m365_shell", {}, UnknownToolError),
        ("m365_user_get", {"user": "not;an address"}, ToolArgumentsError),
        ("m365_user_get", {"user": "x" * 255}, ToolArgumentsError),
        ("m365_user_get", {"user": "a@b.com", "extra": 1}, ToolArgumentsError),
        ("m365_user_get", {}, ToolArgumentsError),
        ("m365_user_get", ["a@b.com"], ToolArgumentsError),
        ("m365_license_assign", {"user": "a@b.com", "sku": "e3; drop"}, ToolArgumentsError),
        ("m365_signins_recent", {"user": "a@b.com", "days": 365}, ToolArgumentsError),
        ("m365_signins_recent", {"user": "a@b.com", "days": "7"}, ToolArgumentsError),
        ("reply", {"text": "any words the model likes"}, ToolArgumentsError),
        ("reply", {"intent": "say_anything", "about": "none"}, ToolArgumentsError),
    ],
)
def test_validate_call_refuses_bad_calls(tool: str, arguments: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        DEFAULT_CATALOG.validate_call(tool, arguments)


def test_summary_renders_the_exact_action() -> None:
    spec = DEFAULT_CATALOG["m365_license_assign"]
    assert spec.summary({"user": "sarah.lin@yourco.com", "sku": "ENTERPRISEPACK"}) == (
        "Assign ENTERPRISEPACK to sarah.lin@yourco.com"
    )


def test_permissions_are_the_union_of_the_enabled_tools_scopes() -> None:
    assert "LicenseAssignment.ReadWrite.All" in DEFAULT_CATALOG.permissions()
    smaller = DEFAULT_CATALOG.without(["m365_license_assign", "m365_license_remove"])
    assert "LicenseAssignment.ReadWrite.All" not in smaller.permissions()
    assert smaller.permissions() == sorted(set(smaller.permissions()))
