"""The egress allowlist, exactly: each refusal's words (they name scheme, host and port and nothing of the
path), each entry problem, the canonical forms at their limits, and what a refusal counts and logs."""

from __future__ import annotations

import logging

import pytest

from appliance.egress import Allowlist, EgressBlocked, canonical_host
from appliance.egress.allowlist import BadEgressEntry, Destination, canonical_map, entry_problem, redacted
from appliance.egress.refusals import blocked_count

ALLOW = Allowlist(["https://graph.microsoft.com", "http://10.1.2.3:8080", "http://[fd00::5]:8080"])


def _refusal(url: str, kind: str = "url") -> str:
    with pytest.raises(EgressBlocked) as refused:
        ALLOW.check(url, kind=kind)
    return refused.value.message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://evil.example/users?x=1", "egress to https://evil.example:443 (url) refused: not on the allowlist"),
        ("http://graph.microsoft.com/x", "egress to http://graph.microsoft.com:80 (url) refused: not on the allowlist"),
        ("https://graph.microsoft.com:8443/", "egress to https://graph.microsoft.com:8443 (url) refused: not on the "
                                              "allowlist"),
        ("https://user:pw@graph.microsoft.com/", "egress to https://graph.microsoft.com:443 (url) refused: credentials "
                                                 "in the URL"),
        ("http://[fd00::6]:8080/v1", "egress to http://[fd00::6]:8080 (url) refused: not on the allowlist"),
        ("https://graph.microsoft.com:99999/", "egress to https://graph.microsoft.com:443 (url) refused: not on the "
                                               "allowlist"),
        ("https://[::1/", "egress to ://invalid-host: (url) refused: not on the allowlist"),
        ("wss://gгaph.microsoft.com/", "egress to wss://invalid-host: (url) refused: not on the allowlist"),
    ],
)
def test_each_refusal_names_only_scheme_host_and_port(url: str, message: str) -> None:
    assert _refusal(url) == message


def test_check_destination_refuses_in_the_same_words_and_names_its_stack() -> None:
    with pytest.raises(EgressBlocked) as refused:
        ALLOW.check_destination("https", b"evil.example", None, kind="httpx")
    assert refused.value.message == "egress to https://evil.example:443 (httpx) refused: not on the allowlist"
    ALLOW.check_destination("https", "graph.microsoft.com", 443, kind="httpx")  # allowed: no exception


def test_every_refusal_is_counted_once_under_its_canonical_host() -> None:
    before = blocked_count("counted.example")
    for url in ("https://COUNTED.example./a", "https://counted.example:8443/b"):
        with pytest.raises(EgressBlocked):
            ALLOW.check(url)
    assert blocked_count("counted.example") == before + 2
    assert ALLOW.allows("https://graph.microsoft.com/") and blocked_count("counted.example") == before + 2


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("https://[fe80::1", "is not a valid URL (bad port or brackets)"),
        ("https://graph.microsoft.com:x", "is not a valid URL (bad port or brackets)"),
        ("ftp://graph.microsoft.com", "is not http(s)"),
        ("https://u@graph.microsoft.com", "carries credentials"),
        ("https://bücher.example", "has no valid host (IDNs must be written in their xn-- form; no zone ids)"),
        ("https://graph.microsoft.com:0", "has port 0"),
        ("https://graph.microsoft.com?x", "carries a query or a fragment"),
        ("https://graph.microsoft.com#x", "carries a query or a fragment"),
        ("https://graph.microsoft.com/v1.0",
         "has a path (the allowlist is per origin; write https://host[:port] only)"),
        ("http://graph.microsoft.com", "is not https"),
        ("https://graph.microsoft.com", None),
        ("https://graph.microsoft.com/", None),
    ],
)
def test_each_entry_problem_in_its_own_words(entry: str, problem: str | None) -> None:
    assert entry_problem(entry) == problem


def test_a_bad_entry_is_refused_naming_it_redacted_and_the_problem() -> None:
    with pytest.raises(BadEgressEntry) as refused:
        Destination.parse("https://key:s3cret@llm.example.net/v1")
    assert refused.value.message == ("egress entry 'https://***@llm.example.net/v1' carries credentials; it must look "
                                     "like https://host[:port]")


def test_a_destination_parses_to_its_canonical_parts_and_prints_with_its_port() -> None:
    assert Destination.parse("HTTPS://Graph.Microsoft.com.") == Destination("https", "graph.microsoft.com", 443)
    assert Destination.parse("http://10.1.2.3") == Destination("http", "10.1.2.3", 80)
    assert Destination.parse("http://[FD00::5]:8080/x") == Destination("http", "fd00::5", 8080)
    assert str(Destination("http", "fd00::5", 8080)) == "http://[fd00::5]:8080"
    assert str(Destination("https", "graph.microsoft.com", 443)) == "https://graph.microsoft.com:443"
    assert repr(ALLOW) == ("Allowlist(['http://10.1.2.3:8080', 'http://[fd00::5]:8080', "
                           "'https://graph.microsoft.com:443'])")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://key:s3cret@llm.example.net/v1", "https://***@llm.example.net/v1"),
        ("https://a@b@llm.example.net", "https://***@llm.example.net"),
        ("https://llm.example.net/v1?user=a@b", "https://llm.example.net/v1?user=a@b"),  # @ outside the host part
        ("llm.example.net", "llm.example.net"),
    ],
)
def test_redacted_hides_credentials_only(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_canonical_host_at_its_limits() -> None:
    label = "a" * 63
    longest = ".".join([label, label, label, "a" * 61])  # 253 characters
    assert len(longest) == 253 and canonical_host(longest) == longest
    assert canonical_host(longest + "a") is None
    assert canonical_host(label + ".example") == label + ".example"
    assert canonical_host("a" * 64 + ".example") is None
    assert canonical_host(b"Graph.Microsoft.com") == "graph.microsoft.com"
    assert canonical_host(None) is None and canonical_host(b"") is None
    assert canonical_host("example.123") is None and canonical_host("example.0x1f") is None
    assert canonical_host("example.123a") == "example.123a"  # a last label that is not a number is a name
    assert canonical_host("under_score-.example") is None  # a label may not end with "-"
    assert canonical_host("a.b.") == "a.b" and canonical_host("[::1]") == "::1" and canonical_host("::1") == "::1"
    assert canonical_host("[not:v6]") is None


def test_allows_refuses_a_url_whose_port_cannot_be_read() -> None:
    assert ALLOW.allows("https://graph.microsoft.com:99999/") is False
    assert ALLOW.allows("https://[::1/") is False
    assert ALLOW.allows_destination("https", "graph.microsoft.com", None) is True
    assert ALLOW.allows_destination("https", "graph.microsoft.com", 443) is True
    assert ALLOW.allows_destination("https", "graph.microsoft.com", 80) is False


def test_host_map_keys_must_be_host_names_and_ports_become_numbers() -> None:
    assert canonical_map(None) == {}
    assert canonical_map({"a.example": ("127.0.0.1", "8443")}) == {"a.example": ("127.0.0.1", 8443)}  # type: ignore[dict-item]
    with pytest.raises(ValueError) as refused:
        canonical_map({"bad host": ("127.0.0.1", 1)})
    assert str(refused.value) == "host map key 'bad host' is not a valid host name"


# -- what a refusal logs, and the port it is about (kills the allowlist's remaining mutants) -----------------
@pytest.fixture
def ops(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="aidizen.ops")
    return caplog


def _blocked(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [dict(r.ops_fields) for r in caplog.records if r.name == "aidizen.ops"]  # type: ignore[attr-defined]


def test_a_refused_url_is_logged_with_its_host_default_port_and_kind(ops: pytest.LogCaptureFixture) -> None:
    with pytest.raises(EgressBlocked):
        ALLOW.check("https://evil.example/path")
    with pytest.raises(EgressBlocked):
        ALLOW.check_destination("http", "10.9.9.9", 8081, kind="aiohttp")
    assert _blocked(ops) == [{"host": "evil.example", "port": 443, "kind": "url"},
                             {"host": "10.9.9.9", "port": 8081, "kind": "aiohttp"}]


def test_an_allowed_host_on_another_port_is_refused_naming_that_port() -> None:
    with pytest.raises(EgressBlocked) as refused:
        ALLOW.check_destination("https", "graph.microsoft.com", 8443, kind="httpx")
    assert refused.value.message == (
        "egress to https://graph.microsoft.com:8443 (httpx) refused: not on the allowlist")


def test_half_a_pair_of_brackets_is_not_an_address() -> None:
    assert canonical_host("[::1") is None and canonical_host("::1]") is None
    assert canonical_host("[::1]") == "::1"


def test_redacted_splits_at_the_first_scheme_separator() -> None:
    assert redacted("https://user:secret@host.example/next?to=http://other") == (
        "https://***@host.example/next?to=http://other")
