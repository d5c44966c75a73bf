"""Least privilege at start-up: compare the scopes in the Aid's token with what the enabled tools need.

Missing scopes disable the tools that need them (and the operator is told which); extra scopes are a
warning, or a refusal to start when `strict` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.catalog import Catalog
from appliance.errors import ConfigError

DIRECTORY_PERMISSIONS = ("User.Read.All", "GroupMember.Read.All", "AuditLog.Read.All")
"""What the appliance itself reads whatever tools are enabled: who is asking, their groups (the requester
list), and the M365 directory audit entries its records join to."""


@dataclass(frozen=True)
class ScopeReport:
    """What the token grants against what the catalog needs."""

    needed: frozenset[str]
    granted: frozenset[str]
    disabled_tools: tuple[str, ...]
    missing: frozenset[str]
    extra: frozenset[str]

    def lines(self) -> list[str]:
        """Operator-facing sentences (empty when everything matches)."""
        out = []
        if self.missing:
            out.append(f"missing consent for {', '.join(sorted(self.missing))}: "
                       f"disabled {', '.join(self.disabled_tools)}")
        if self.extra:
            out.append(f"the Aid holds scopes no enabled tool needs: {', '.join(sorted(self.extra))} "
                       "(remove them from the admin app registration)")
        return out


def compare_scopes(catalog: Catalog, granted: set[str], *, strict: bool = False) -> ScopeReport:
    """Tools whose permissions are not all granted are disabled; extra grants warn (or refuse if strict)."""
    needed = set(catalog.permissions()) | set(DIRECTORY_PERMISSIONS)
    disabled = tuple(name for name, spec in catalog.items() if not set(spec.permissions) <= granted)
    report = ScopeReport(frozenset(needed), frozenset(granted), disabled, frozenset(needed - granted),
                         frozenset(granted - needed))
    if strict and report.extra:
        raise ConfigError(
            f"the Aid's token carries scopes beyond what the enabled tools need: {', '.join(sorted(report.extra))}",
            hint="Remove them from the admin app registration, or set graph.strict_scopes = false.",
        )
    return report
