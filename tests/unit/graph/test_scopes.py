"""The start-up comparison of granted and needed scopes."""

from __future__ import annotations

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.errors import ConfigError
from appliance.graph.scopes import compare_scopes

ALL = set(DEFAULT_CATALOG.permissions())


def test_everything_granted_disables_nothing() -> None:
    report = compare_scopes(DEFAULT_CATALOG, set(ALL))
    assert report.disabled_tools == () and not report.missing and not report.extra and report.lines() == []


def test_a_missing_scope_disables_exactly_the_tools_that_need_it() -> None:
    report = compare_scopes(DEFAULT_CATALOG, ALL - {"LicenseAssignment.ReadWrite.All"})
    assert set(report.disabled_tools) == {"m365_license_assign", "m365_license_remove"}
    assert "LicenseAssignment.ReadWrite.All" in report.lines()[0]


def test_extra_scopes_warn_or_refuse_when_strict() -> None:
    report = compare_scopes(DEFAULT_CATALOG, ALL | {"Directory.ReadWrite.All"})
    assert report.extra == {"Directory.ReadWrite.All"} and "Directory.ReadWrite.All" in report.lines()[0]
    with pytest.raises(ConfigError, match=r"Directory\.ReadWrite\.All"):
        compare_scopes(DEFAULT_CATALOG, ALL | {"Directory.ReadWrite.All"}, strict=True)


def test_the_read_only_tools_need_no_write_scope() -> None:
    reads = {"User.Read.All", "Organization.Read.All", "GroupMember.Read.All", "UserAuthenticationMethod.Read.All",
             "AuditLog.Read.All", "Directory.Read.All"}
    report = compare_scopes(DEFAULT_CATALOG, reads)
    assert not {t for t in report.disabled_tools if not DEFAULT_CATALOG[t].changes_state}


def test_a_documented_superset_stands_in_only_when_the_operator_allows_it() -> None:
    # user-update.md: User.ReadUpdate.All least privileged; User.ReadWrite.All is a documented superset.
    tenant = (ALL - {"User.ReadUpdate.All"}) | {"User.ReadWrite.All"}
    refused = compare_scopes(DEFAULT_CATALOG, tenant)
    assert refused.disabled_tools == ("m365_user_update",) and refused.missing == {"User.ReadUpdate.All"}
    assert "User.ReadWrite.All" in refused.extra
    allowed = compare_scopes(DEFAULT_CATALOG, tenant, accept_supersets=["User.ReadUpdate.All"])
    assert allowed.disabled_tools == () and not allowed.missing and not allowed.extra
    assert allowed.substituted == (("User.ReadUpdate.All", "User.ReadWrite.All"),)
    assert "covered by the broader User.ReadWrite.All" in allowed.lines()[0]
    unrelated = compare_scopes(DEFAULT_CATALOG, (ALL - {"GroupMember.ReadWrite.All"}) | {"Group.ReadWrite.All"},
                               accept_supersets=["GroupMember.ReadWrite.All"])
    assert "m365_group_add_member" in unrelated.disabled_tools  # no documented superset listed: never guessed
