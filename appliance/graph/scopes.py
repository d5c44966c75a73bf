"""Least privilege at start-up: compare what an admin consented for the Aid with what it needs.

Entra puts every scope consented for the resource into a token's `scp`, whatever the request named, and
a request naming a scope nobody consented to fails (AADSTS65001 / AADSTS90094); it never returns a
narrower token (MicrosoftDocs/entra-docs, docs/identity-platform/permissions-consent-overview.md,
reference-error-codes.md). So the appliance reads the consented set with a `.default` request and:
- a needed scope that is not consented stops start-up, naming the scopes and the admin-consent URL
  (every token request would fail anyway); an operator who does not want a tool disables it in config;
- consented scopes that nothing needs are reported; `strict_scopes = true` refuses to start with them
  (the operator asked for exactly the least privilege the enabled tools need).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from appliance.catalog import Catalog
from appliance.errors import ConfigError

DIRECTORY_PERMISSIONS = ("User.Read.All", "GroupMember.Read.All", "AuditLog.Read.All", "Directory.Read.All",
                         "RoleEligibilitySchedule.Read.Directory")
"""What the appliance itself reads whatever tools are enabled: who is asking and their groups (the requester
list), the M365 directory audit entries its records join to (`directoryAudits` needs AuditLog.Read.All and
Directory.Read.All), and PIM role eligibility (it refuses targets that may become administrators)."""


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
    """What the admin consented against what the enabled tools and the appliance need."""

    needed: frozenset[str]
    consented: frozenset[str]
    missing: frozenset[str]
    extra: frozenset[str]
    needed_by: dict[str, tuple[str, ...]]
    substituted: tuple[tuple[str, str], ...] = ()

    def lines(self) -> list[str]:
        """Operator-facing sentences (empty when everything matches)."""
        out = [f"{needed} is covered by the broader {used} ([graph] accept_supersets)" for needed, used in
               self.substituted]
        if self.missing:
            out.append("missing consent for " + "; ".join(
                f"{scope} (needed by {', '.join(self.needed_by.get(scope, ('the appliance',)))})"
                for scope in sorted(self.missing)))
        if self.extra:
            out.append(f"the Aid holds consented scopes nothing needs: {', '.join(sorted(self.extra))} "
                       "(remove them from the admin app registration and its consent)")
        return out


def admin_consent_url(authority_host: str, tenant: str, client_id: str) -> str:
    """Where a Global or Privileged Role Administrator grants admin consent for the app's configured
    permissions (MicrosoftDocs/entra-docs, docs/identity/enterprise-apps/grant-admin-consent.md)."""
    return f"{authority_host.rstrip('/')}/{tenant}/adminconsent?client_id={client_id}"


def compare_scopes(
    catalog: Catalog, consented: set[str], *, strict: bool = False, consent_url: str = "",
    accept_supersets: Iterable[str] = (),
) -> ScopeReport:
    """Missing consent raises ConfigError (naming the scopes and `consent_url`); extras are reported, and
    refused when `strict`.

    A scope named in `accept_supersets` (`[graph] accept_supersets`, the operator's explicit choice) also
    counts as consented when one of its documented supersets (`DOCUMENTED_SUPERSETS`) is; never otherwise.
    """
    needed_by: dict[str, list[str]] = {scope: ["the appliance"] for scope in DIRECTORY_PERMISSIONS}
    for name, spec in catalog.items():
        for scope in spec.permissions:
            needed_by.setdefault(scope, []).append(name)
    needed = set(needed_by)
    cover = {scope: satisfied(scope, consented, accept_supersets) for scope in needed}
    substituted = tuple(sorted((scope, used) for scope, used in cover.items() if used and used != scope))
    in_use = {used for used in cover.values() if used}
    report = ScopeReport(frozenset(needed), frozenset(consented),
                         frozenset(scope for scope, used in cover.items() if used is None),
                         frozenset(consented - needed - in_use), {k: tuple(v) for k, v in needed_by.items()},
                         substituted)
    if report.missing:
        where = f" at {consent_url}" if consent_url else ""
        raise ConfigError(
            next(line for line in report.lines() if line.startswith("missing consent")),
            hint=f"An administrator grants admin consent for these scopes{where} (after adding them to the admin app "
            "registration: `appliance permissions`), or disable the tools that need them in [catalog] disabled_tools.",
        )
    if strict and report.extra:
        raise ConfigError(
            f"the Aid holds consented scopes no enabled tool needs: {', '.join(sorted(report.extra))}",
            hint="Remove them from the admin app registration and revoke their consent, or set "
            "graph.strict_scopes = false to only report them.",
        )
    return report
