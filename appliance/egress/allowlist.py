"""The egress allowlist (pure matching): which (scheme, host, port) destinations the appliance may reach.

An empty list denies everything. Entries are origins (`https://graph.microsoft.com`); the port defaults
to the scheme's, and a path in an entry is ignored (the allowlist is per origin; `appliance doctor`
flags one). Hosts compare exactly after one canonical form (`canonical_host`): lower case, one
trailing dot dropped (`graph.microsoft.com.` is the same absolute name), IPv6 written compressed.
No wildcards, no suffix matching; a host that is not plain ASCII (an IDN must be written in its
`xn--` form) or that carries a zone id is never allowed, so a look-alike cannot match.

Transports check the scheme, host and port their own library will connect to (`check_destination`),
so no second URL parser can disagree with ours; `check(url)` is for a URL string and also refuses
credentials in it. Every refusal is counted and logged once (`egress.refusals`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from appliance.egress.refusals import record_refusal
from appliance.errors import ApplianceError, ConfigError

DEFAULT_PORTS = {"https": 443, "http": 80}
HostMap = Mapping[str, tuple[str, int]]
"""Dev tenant only: real host name -> the (address, port) its connections go to instead."""
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")


class EgressBlocked(ApplianceError):
    """An outbound call to a destination outside the allowlist; refused before any byte was sent."""

    hint = "If this destination is legitimate, add it to [egress] allow in appliance.toml; otherwise investigate."


class BadEgressEntry(ConfigError, ValueError):
    """An allowlist entry that is not `http(s)://host[:port]` (also a ValueError, for plain callers)."""

    hint = (
        "Write each [egress] allow, [teams] service_urls, [graph] and llm.endpoint origin as https://host[:port] "
        "(no credentials, query or fragment; IDNs in their xn-- form); `appliance doctor` names the bad one."
    )


def canonical_host(host: str | bytes | None) -> str | None:
    """The one form hosts are compared in, or None if `host` can never be allowed.

    Lower case; `[v6]` brackets and one trailing dot removed; IP addresses in their standard form;
    names must be ASCII labels of letters, digits, `-` and `_` (no empty label, at most 253 characters).
    """
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not host or not host.isascii() or "%" in host:
        return None
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed  # (a zone id, "%eth0", was refused above)
        except ValueError:
            return None
    if host.endswith("."):
        host = host[:-1]
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels) or _NUMERIC.match(labels[-1]):
        return None  # a numeric last label is a legacy IPv4 form (127.1, 2130706433, 0x7f.1), not a name
    return host


def canonical_map(host_map: HostMap | None) -> dict[str, tuple[str, int]]:
    """`host_map` keyed by canonical names, so `GRAPH.microsoft.com.` is mapped like `graph.microsoft.com`.
    Raises ValueError for a key that is not a valid host name."""
    mapped: dict[str, tuple[str, int]] = {}
    for host, (address, port) in (host_map or {}).items():
        name = canonical_host(host)
        if name is None:
            raise ValueError(f"host map key {host!r} is not a valid host name")
        mapped[name] = (address, int(port))
    return mapped


@dataclass(frozen=True)
class Destination:
    """One allowed (scheme, host, port)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Destination:
        """`https://host[:port]` -> Destination. Raises BadEgressEntry (a ValueError) for a scheme other
        than http(s), a missing or invalid host, a bad port, credentials, a query or a fragment."""
        problem = _url_problem(url)
        if problem:
            raise BadEgressEntry(f"egress entry {redacted(url)!r} {problem}; it must look like https://host[:port]")
        parts = urlsplit(url)
        host = canonical_host(parts.hostname)
        assert host is not None  # _url_problem checked it
        return cls(parts.scheme, host, parts.port or DEFAULT_PORTS[parts.scheme])

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def redacted(url: str) -> str:
    """`url` with any credentials in it replaced by `***` (for messages)."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    if not sep or "@" not in netloc:
        return url
    return f"{scheme}://***@{netloc.rpartition('@')[2]}{slash}{tail}"


def _url_problem(url: str) -> str | None:
    """What makes `url` unusable as a destination (None if nothing); the path is not looked at."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL (bad port or brackets)"
    if parts.scheme not in DEFAULT_PORTS:
        return "is not http(s)"
    if "@" in parts.netloc:
        return "carries credentials"
    if canonical_host(parts.hostname) is None:
        return "has no valid host (IDNs must be written in their xn-- form; no zone ids)"
    if port == 0:
        return "has port 0"
    if parts.query or parts.fragment:
        return "carries a query or a fragment"
    return None


def entry_problem(entry: str) -> str | None:
    """Why `entry` is not a clean allowlist origin `https://host[:port]` (None if it is). Stricter than
    `Destination.parse`: a path is a problem too, and so is plain http (the caller decides whether an
    http entry is acceptable, e.g. an in-tenant LLM server on a private address)."""
    problem = _url_problem(entry)
    if problem:
        return problem
    parts = urlsplit(entry)
    if parts.path not in ("", "/"):
        return "has a path (the allowlist is per origin; write https://host[:port] only)"
    if parts.scheme != "https":
        return "is not https"
    return None


def _refuse(scheme: str, host: str | bytes | None, port: int | None, kind: str, why: str = "") -> NoReturn:
    """Count and log one refusal (host and port only), then raise EgressBlocked."""
    shown = canonical_host(host) or "invalid-host"
    shown_port = port or DEFAULT_PORTS.get(scheme.lower())
    record_refusal(shown, shown_port, kind)
    where = f"[{shown}]" if ":" in shown else shown
    reason = why or "not on the allowlist"
    raise EgressBlocked(f"egress to {scheme}://{where}:{shown_port or ''} ({kind}) refused: {reason}")


class Allowlist:
    """A set of destinations; `check(url)` / `check_destination(...)` raise EgressBlocked for anything else."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.destinations = frozenset(Destination.parse(entry) for entry in entries)

    def allows_destination(self, scheme: str, host: str | bytes | None, port: int | None) -> bool:
        """True if (scheme, host, port) is on the list; `port=None` means the scheme's default."""
        scheme = scheme.lower()
        name = canonical_host(host)
        if name is None or scheme not in DEFAULT_PORTS or port == 0:
            return False
        return Destination(scheme, name, port or DEFAULT_PORTS[scheme]) in self.destinations

    def allows(self, url: str) -> bool:
        """True if `url`'s scheme, host and port are on the list (a URL with credentials never is)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if "@" in parts.netloc:
            return False
        return self.allows_destination(parts.scheme, parts.hostname, port)

    def check_destination(self, scheme: str, host: str | bytes | None, port: int | None, *, kind: str) -> None:
        """Raise EgressBlocked (naming only scheme, host and port) unless (scheme, host, port) is allowed.

        `kind` names the stack that asked (`httpx`, `requests`, `aiohttp`, ...); each refusal is counted
        and logged once as `egress.blocked` with host, port and kind.
        """
        if not self.allows_destination(scheme, host, port):
            _refuse(scheme, host, port, kind)

    def check(self, url: str, *, kind: str = "url") -> None:
        """`check_destination` for a URL string; malformed URLs and URLs with credentials are refused."""
        if self.allows(url):
            return
        try:
            parts = urlsplit(url)
        except ValueError:
            _refuse("", None, None, kind)
        try:
            port = parts.port
        except ValueError:
            port = None
        _refuse(parts.scheme, parts.hostname, port, kind, "credentials in the URL" if "@" in parts.netloc else "")

    def host_ports(self) -> dict[str, frozenset[int]]:
        """Each allowed host -> the ports it may be reached on (any scheme): what a socket-level guard,
        which cannot see the scheme, can enforce."""
        ports: dict[str, set[int]] = {}
        for destination in self.destinations:
            ports.setdefault(destination.host, set()).add(destination.port)
        return {host: frozenset(found) for host, found in ports.items()}

    def __repr__(self) -> str:
        return f"Allowlist({sorted(str(d) for d in self.destinations)})"
