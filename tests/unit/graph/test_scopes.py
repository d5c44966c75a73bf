"""The start-up comparison of consented and needed scopes, in Entra's consent model: a token carries every
consented scope, a request for an unconsented one fails (so a missing scope stops start-up)."""

from __future__ import annotations

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.errors import ConfigError
from appliance.graph.scopes import DIRECTORY_PERMISSIONS, admin_consent_url, compare_scopes

ALL = set(DEFAULT_CATALOG.permissions()) | set(DIRECTORY_PERMISSIONS)
URL = admin_consent_url("https://login.microsoftonline.com", "contoso.onmicrosoft.com", "app-id")


def test_everything_consented_reports_nothing() -> None:
    report = compare_scopes(DEFAULT_CATALOG, set(ALL))
    assert not report.missing and not report.extra and report.lines() == []


def test_missing_consent_stops_start_up_naming_the_scopes_the_tools_and_the_consent_url() -> None:
    with pytest.raises(ConfigError) as caught:
        compare_scopes(DEFAULT_CATALOG, ALL - {"LicenseAssignment.ReadWrite.All"}, consent_url=URL)
    assert "LicenseAssignment.ReadWrite.All" in str(caught.value) and "m365_license_assign" in str(caught.value)
    assert URL == "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=app-id"
    assert URL in caught.value.hint
    assert "disabled_tools" in caught.value.hint


def test_a_disabled_tool_no_longer_needs_its_scope() -> None:
    catalog = DEFAULT_CATALOG.without(["m365_license_assign", "m365_license_remove"])
    report = compare_scopes(catalog, ALL - {"LicenseAssignment.ReadWrite.All"})
    assert not report.missing


def test_the_appliances_own_reads_are_always_needed() -> None:
    with pytest.raises(ConfigError, match=r"Directory\.Read\.All \(needed by the appliance"):
        nothing = DEFAULT_CATALOG.without([t for t in DEFAULT_CATALOG if t != "reply"])
        compare_scopes(nothing, ALL - {"Directory.Read.All"})


def test_extra_consent_is_reported_or_refused_when_strict() -> None:
    report = compare_scopes(DEFAULT_CATALOG, ALL | {"Directory.ReadWrite.All"})
    assert report.extra == {"Directory.ReadWrite.All"} and "Directory.ReadWrite.All" in report.lines()[0]
    with pytest.raises(ConfigError, match=r"Directory\.ReadWrite\.All"):
        compare_scopes(DEFAULT_CATALOG, ALL | {"Directory.ReadWrite.All"}, strict=True)


def test_the_read_only_tools_need_no_write_scope() -> None:
    reads = {"User.Read.All", "Organization.Read.All", "GroupMember.Read.All", "UserAuthenticationMethod.Read.All",
             "AuditLog.Read.All", "Directory.Read.All", *DIRECTORY_PERMISSIONS}
    read_only = DEFAULT_CATALOG.without([t for t in DEFAULT_CATALOG if DEFAULT_CATALOG[t].changes_state])
    report = compare_scopes(read_only, reads)
    assert not report.missing and not {s for s in report.needed if "ReadWrite" in s}


def test_a_documented_superset_stands_in_only_when_the_operator_allows_it() -> None:
    # user-update.md: User.ReadUpdate.All least privileged; User.ReadWrite.All is a documented superset.
    tenant = (ALL - {"User.ReadUpdate.All"}) | {"User.ReadWrite.All"}
    with pytest.raises(ConfigError, match=r"User\.ReadUpdate\.All"):
        compare_scopes(DEFAULT_CATALOG, tenant)
    allowed = compare_scopes(DEFAULT_CATALOG, tenant, accept_supersets=["User.ReadUpdate.All"])
    assert not allowed.missing and not allowed.extra
    assert allowed.substituted == (("User.ReadUpdate.All", "User.ReadWrite.All"),)
    assert "covered by the broader User.ReadWrite.All" in allowed.lines()[0]
    with pytest.raises(ConfigError, match=r"GroupMember\.ReadWrite\.All"):  # no documented superset: never guessed
        compare_scopes(DEFAULT_CATALOG, (ALL - {"GroupMember.ReadWrite.All"}) | {"Group.ReadWrite.All"},
                       accept_supersets=["GroupMember.ReadWrite.All"])
