"""Least privilege at start-up: compare the scopes in the Aid's token with what the enabled tools need.

Missing scopes disable the tools that need them (and the operator is told which); extra scopes are a
warning, or a refusal to start when `strict` is set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from appliance.catalog import Catalog
from appliance.errors import ConfigError

DIRECTORY_PERMISSIONS = ("User.Read.All", "GroupMember.Read.All", "AuditLog.Read.All")
"""What the appliance itself reads whatever tools are enabled: who is asking, their groups (the requester
list), and the M365 directory audit entries its records join to."""


DOCUMENTED_SUPERSETS: dict[str, tuple[str, ...]] = {
    # microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-update.md ("Permissions", 2026-07):
    # least privileged User.ReadUpdate.All; higher privileged User.ReadWrite.All, Directory.ReadWrite.All.
    # Microsoft's provisioning data still marks User.ReadUpdate.All's id as not deployed (permission_ids.py),
    # so a tenant may be unable to consent to it; the operator can then allow a documented superset.
    "User.ReadUpdate.All": ("User.ReadWrite.All", "Directory.ReadWrite.All"),
}
"""Scopes whose documented higher-privileged alternatives the scope check may accept, when told to."""


def satisfied(scope: str, granted: set[str], accept_supersets: Iterable[str] = ()) -> str | None:
    """The granted scope that covers `scope` (itself, or an allowed documented superset), or None."""
    if scope in granted:
        return scope
    if scope in set(accept_supersets):
        return next((s for s in DOCUMENTED_SUPERSETS.get(scope, ()) if s in granted), None)
    return None


@dataclass(frozen=True)
class ScopeReport:
    """What the token grants against what the catalog needs."""

    needed: frozenset[str]
    granted: frozenset[str]
    disabled_tools: tuple[str, ...]
    missing: frozenset[str]
    extra: frozenset[str]
    substituted: tuple[tuple[str, str], ...] = ()

    def lines(self) -> list[str]:
        """Operator-facing sentences (empty when everything matches)."""
        out = [f"{needed} is covered by the broader {used} ([graph] accept_supersets)" for needed, used in
               self.substituted]
        if self.missing:
            out.append(f"missing consent for {', '.join(sorted(self.missing))}: "
                       f"disabled {', '.join(self.disabled_tools)}")
        if self.extra:
            out.append(f"the Aid holds scopes no enabled tool needs: {', '.join(sorted(self.extra))} "
                       "(remove them from the admin app registration)")
        return out


def compare_scopes(
    catalog: Catalog, granted: set[str], *, strict: bool = False, accept_supersets: Iterable[str] = ()
) -> ScopeReport:
    """Tools whose permissions are not all granted are disabled; extra grants warn (or refuse if strict).

    A scope named in `accept_supersets` (`[graph] accept_supersets`, the operator's explicit choice) also
    counts as granted when one of its documented supersets (`DOCUMENTED_SUPERSETS`) is; never otherwise.
    """
    accepted = set(accept_supersets)
    needed = set(catalog.permissions()) | set(DIRECTORY_PERMISSIONS)
    cover = {scope: satisfied(scope, granted, accepted) for scope in needed}
    disabled = tuple(name for name, spec in catalog.items() if any(cover[p] is None for p in spec.permissions))
    substituted = tuple(sorted((scope, used) for scope, used in cover.items() if used and used != scope))
    in_use = {used for used in cover.values() if used}
    report = ScopeReport(frozenset(needed), frozenset(granted), disabled,
                         frozenset(scope for scope, used in cover.items() if used is None),
                         frozenset(granted - needed - in_use), substituted)
    if strict and report.extra:
        raise ConfigError(
            f"the Aid's token carries scopes beyond what the enabled tools need: {', '.join(sorted(report.extra))}",
            hint="Remove them from the admin app registration, or set graph.strict_scopes = false.",
        )
    return report
