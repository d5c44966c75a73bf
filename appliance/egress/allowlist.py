"""The egress allowlist (pure): which (scheme, host, port) destinations the appliance may reach.

An empty list denies everything. Entries are URLs (`https://graph.microsoft.com`); the port defaults
to the scheme's. Hosts compare case-insensitively and exactly: no wildcards, no suffix matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from appliance.errors import ApplianceError

DEFAULT_PORTS = {"https": 443, "http": 80}


class EgressBlocked(ApplianceError):
    """An outbound call to a destination outside the allowlist; refused before any byte was sent."""

    hint = "If this destination is legitimate, add it to [egress] allow in appliance.toml; otherwise investigate."


@dataclass(frozen=True)
class Destination:
    """One allowed (scheme, host, port)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Destination:
        """`https://host[:port]` -> Destination (path, query and credentials are not allowed in entries)."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"egress entry {url!r} must look like https://host[:port]")
        return cls(parts.scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[parts.scheme])


class Allowlist:
    """A set of destinations; `check(url)` raises EgressBlocked for anything else."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.destinations = frozenset(Destination.parse(entry) for entry in entries)

    def allows(self, url: str) -> bool:
        """True if `url`'s scheme, host and port are on the list."""
        try:
            return Destination.parse(url) in self.destinations
        except ValueError:
            return False

    def check(self, url: str) -> None:
        """Raise EgressBlocked (naming only scheme, host and port) if `url` is not allowed."""
        if not self.allows(url):
            parts = urlsplit(url)
            raise EgressBlocked(
                f"egress to {parts.scheme}://{parts.hostname}:{parts.port or ''} is not on the allowlist"
            )

    def __repr__(self) -> str:
        return f"Allowlist({sorted(f'{d.scheme}://{d.host}:{d.port}' for d in self.destinations)})"
