"""Which Entra roles the enabled tools need, and which the Aid lacks (`appliance doctor`'s roles check)."""

from __future__ import annotations

from appliance.catalog import DEFAULT_CATALOG
from appliance.graph.directory_roles import missing_roles, needed_roles

EVERY_ROLE = set(needed_roles(DEFAULT_CATALOG))


def test_each_role_is_named_with_the_tools_that_need_it() -> None:
    needed = needed_roles(DEFAULT_CATALOG)
    assert set(needed["License Administrator"]) == {"m365_license_assign", "m365_license_remove"}
    assert set(needed["Groups Administrator"]) == {"m365_group_add_member", "m365_group_remove_member"}
    assert "m365_user_get" not in {tool for tools in needed.values() for tool in tools}  # needs no role


def test_a_missing_role_is_named_and_nothing_else() -> None:
    held = EVERY_ROLE - {"Groups Administrator"}
    assert missing_roles(DEFAULT_CATALOG, held) == {"Groups Administrator": needed_roles(DEFAULT_CATALOG)[
        "Groups Administrator"]}
    assert missing_roles(DEFAULT_CATALOG, {r.upper() for r in EVERY_ROLE}) == {}  # display names, any case


def test_global_administrator_covers_every_role_and_nothing_held_misses_them_all() -> None:
    assert missing_roles(DEFAULT_CATALOG, {"Global Administrator"}) == {}
    assert set(missing_roles(DEFAULT_CATALOG, set())) == EVERY_ROLE


def test_disabling_the_tools_that_need_a_role_drops_it() -> None:
    catalog = DEFAULT_CATALOG.without(["m365_group_add_member", "m365_group_remove_member"])
    assert missing_roles(catalog, EVERY_ROLE - {"Groups Administrator"}) == {}
