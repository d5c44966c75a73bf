"""Allowlist edge cases: case, ports, trailing dots, credentials in URLs, IDNA look-alikes, IPv6 and
legacy IPv4 literals, and the entries themselves. Every doubtful URL fails closed."""

from __future__ import annotations

import pytest

from appliance.egress import Allowlist, EgressBlocked, canonical_host
from appliance.egress.allowlist import BadEgressEntry, canonical_map, entry_problem

ALLOW = Allowlist([
    "https://graph.microsoft.com",
    "https://login.microsoftonline.com:443",
    "http://10.1.2.3:8080",
    "http://[fd00::5]:8080",
    "https://xn--bcher-kva.example",
])

ALLOWED = [
    "https://graph.microsoft.com/v1.0/users",
    "https://GRAPH.Microsoft.COM/v1.0/users",  # case
    "HTTPS://graph.microsoft.com/",  # scheme case
    "https://graph.microsoft.com:443/x",  # the default port written out
    "https://graph.microsoft.com./v1.0/me",  # one trailing dot: the same absolute name
    "https://graph.microsoft.com:/x",  # an empty port is the default
    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "http://10.1.2.3:8080/v1/chat/completions",
    "http://[fd00::5]:8080/v1",
    "http://[FD00:0:0::5]:8080/v1",  # the same IPv6 address, written differently
    "https://xn--bcher-kva.example/",  # an IDN in its xn-- form
]
REFUSED = [
    "http://graph.microsoft.com/v1.0/users",  # scheme
    "wss://graph.microsoft.com/",  # scheme
    "https://graph.microsoft.com:8443/",  # port
    "https://graph.microsoft.com:0/",  # port 0
    "https://graph.microsoft.com:99999/",  # port out of range
    "https://graph.microsoft.com../",  # two trailing dots: an empty label
    "https://.graph.microsoft.com/",  # empty first label
    "https://graph.microsoft.com.evil.example/",  # suffix
    "https://evil.example/?https://graph.microsoft.com",  # in the query
    "https://evil.example/#@graph.microsoft.com",  # in the fragment
    "https://graph.microsoft.com@evil.example/",  # userinfo: goes to evil.example
    "https://user:pw@graph.microsoft.com/",  # credentials in the URL, even to an allowed host
    "https://evil.example\\@graph.microsoft.com/",  # parsers disagree on backslashes: refuse
    "https://gгaph.microsoft.com/",  # Cyrillic г
    "https://xn--gaph-l4d.microsoft.com/",  # the same look-alike, punycoded
    "https://ｇｒａｐｈ.microsoft.com/",  # fullwidth: never compared as unicode
    "https://bücher.example/",  # an allowed IDN, but not in its xn-- form
    "http://[fd00::5%25eth0]:8080/",  # zone id
    "http://[::ffff:10.1.2.3]:8080/",  # IPv4-mapped IPv6 is not the IPv4 entry
    "http://010.1.2.3:8080/",  # legacy IPv4 forms getaddrinfo would accept
    "http://10.1.515:8080/",
    "http://167838211:8080/",
    "http://0xa.1.2.3:8080/",
    "http://10.1.2.3:8081/",
    "not a url",
    "",
    "//graph.microsoft.com/",
]


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed(url: str) -> None:
    assert ALLOW.allows(url)
    ALLOW.check(url)


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url: str) -> None:
    assert not ALLOW.allows(url)
    with pytest.raises(EgressBlocked) as refused:
        ALLOW.check(url)
    assert "?" not in refused.value.message and "users" not in refused.value.message
    assert refused.value.hint


def test_an_empty_list_denies_everything() -> None:
    assert not Allowlist([]).allows("https://graph.microsoft.com/")
    assert not Allowlist([]).allows_destination("https", "graph.microsoft.com", 443)


def test_destinations_as_the_libraries_see_them() -> None:
    assert ALLOW.allows_destination("https", b"graph.microsoft.com", None)  # httpx raw_host, default port
    assert ALLOW.allows_destination("HTTPS", "GRAPH.microsoft.com.", 443)
    assert ALLOW.allows_destination("http", "fd00::5", 8080)  # IPv6 without brackets (httpx, yarl)
    assert ALLOW.allows_destination("http", "[fd00::5]", 8080)
    assert not ALLOW.allows_destination("https", "graph.microsoft.com", 0)
    assert not ALLOW.allows_destination("https", None, 443)
    assert not ALLOW.allows_destination("https", b"\xff", 443)
    assert not ALLOW.allows_destination("ftp", "graph.microsoft.com", 443)


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("Graph.Microsoft.com.", "graph.microsoft.com"),
        ("[2001:DB8:0::1]", "2001:db8::1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("under_score.example", "under_score.example"),
        ("fe80::1%eth0", None),
        ("gгaph.microsoft.com", None),
        ("127.1", None),
        ("a..b", None),
        ("-leading.example", None),
        ("a" * 64 + ".example", None),
        ("has space.example", None),
        ("", None),
    ],
)
def test_canonical_host(host: str, canonical: str | None) -> None:
    assert canonical_host(host) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "graph.microsoft.com",  # no scheme
        "ftp://graph.microsoft.com",
        "https://user@graph.microsoft.com",
        "https://graph.microsoft.com?x=1",
        "https://graph.microsoft.com#x",
        "https://graph.microsoft.com:0",
        "https://graph.microsoft.com:70000",
        "https://bücher.example",
        "https://[fe80::1%25eth0]",
        "https://",
    ],
)
def test_malformed_entries_are_refused_when_the_list_is_built(entry: str) -> None:
    with pytest.raises(BadEgressEntry, match="https://host") as refused:
        Allowlist([entry])
    assert isinstance(refused.value, ValueError) and "appliance doctor" in refused.value.hint
    assert entry_problem(entry)


def test_an_entry_with_credentials_is_refused_without_repeating_them() -> None:
    with pytest.raises(ValueError) as refused:
        Allowlist(["https://key:s3cret@llm.example.net/v1"])
    assert "s3cret" not in str(refused.value) and "https://***@llm.example.net/v1" in str(refused.value)


def test_entry_problem_also_names_paths_and_plain_http() -> None:
    assert entry_problem("https://graph.microsoft.com") is None
    assert entry_problem("https://graph.microsoft.com/") is None
    assert entry_problem("https://[fd00::5]:8443") is None
    assert "path" in (entry_problem("https://graph.microsoft.com/v1.0") or "")
    assert entry_problem("http://10.1.2.3:8080") == "is not https"
    assert Allowlist(["https://graph.microsoft.com/v1.0"]).allows("https://graph.microsoft.com/beta")  # per origin


def test_host_ports_and_the_host_map_are_canonical() -> None:
    assert Allowlist(["https://a.example", "http://a.example:8080", "https://B.example."]).host_ports() == {
        "a.example": frozenset({443, 8080}),
        "b.example": frozenset({443}),
    }
    assert canonical_map({"Graph.Microsoft.com.": ("127.0.0.1", 8443)}) == {"graph.microsoft.com": ("127.0.0.1", 8443)}
    with pytest.raises(ValueError):
        canonical_map({"gгaph.microsoft.com": ("127.0.0.1", 8443)})
