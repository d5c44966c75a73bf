"""One counter and one log line per refusal (thread-safe), and the socket guard's decisions, judged
without installing it (audit hooks cannot be removed; tests/integration/egress installs it in a child)."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from appliance import ops_log
from appliance.egress import Allowlist, EgressBlocked, blocked_count, blocked_counts
from appliance.egress.refusals import record_refusal
from appliance.egress.socket_guard import MAX_RESOLVED, SocketGuard

TCP = socket.getaddrinfo("127.0.0.1", 0, type=socket.SOCK_STREAM)[0][:4]


def _infos(*addresses: str) -> list[tuple[object, ...]]:
    return [(socket.AF_INET6 if ":" in a else socket.AF_INET, *TCP[1:], (a, 0)) for a in addresses]


def test_each_refusal_is_counted_and_logged_once_with_host_port_and_kind(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ops_log.LOGGER_NAME)
    before, before_host = blocked_count(), blocked_count("evil.example")
    with pytest.raises(EgressBlocked):
        Allowlist([]).check("https://evil.example:8443/exfiltrate?ssn=123-45-6789", kind="httpx")
    assert blocked_count() == before + 1 and blocked_count("evil.example") == before_host + 1
    assert blocked_counts()["evil.example:8443"] >= 1
    (record,) = [r for r in caplog.records if r.getMessage() == "egress.blocked"]
    assert record.ops_fields == {"host": "evil.example", "port": 8443, "kind": "httpx"}  # type: ignore[attr-defined]
    line = ops_log.JsonLineFormatter().format(record)
    assert "exfiltrate" not in line and "ssn" not in line and "6789" not in line


def test_the_counter_is_thread_safe() -> None:
    before = blocked_count("threads.example")

    def hammer() -> None:
        for _ in range(300):
            record_refusal("threads.example", 443, "test")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert blocked_count("threads.example") == before + 2400


def test_a_refusal_while_logging_a_refusal_is_counted_but_not_logged_again() -> None:
    class Reentrant(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record_refusal("inner.example", 443, "test")  # as if the handler opened a socket under the guard

    logger = logging.getLogger(ops_log.LOGGER_NAME)
    handler, level = Reentrant(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        before = blocked_count("inner.example")
        record_refusal("outer.example", 443, "test")
        assert blocked_count("inner.example") == before + 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


GUARD = SocketGuard(
    Allowlist(["https://graph.microsoft.com", "http://10.1.2.3:8080", "https://localhost:9443"]),
    {"login.microsoftonline.com": ("127.0.0.1", 8443), "smba.trafficmanager.net": ("devtenant.local", 8443)},
    listen_hosts=["appliance.internal"],
)


def test_lookups_only_for_allowed_mapped_local_and_listen_names() -> None:
    for host in (None, "", "127.0.0.1", "::1", "graph.microsoft.com", "GRAPH.microsoft.com.", b"graph.microsoft.com",
                 "devtenant.local", "localhost", "appliance.internal"):
        assert GUARD.allows_lookup(host), host
    for host in ("exfil.example", "graph.microsoft.com.exfil.example", "gгaph.microsoft.com", "127.1", b"\xff"):
        assert not GUARD.allows_lookup(host), host


def test_connects_only_to_mapped_listed_or_resolved_addresses() -> None:
    inet, inet6, unix = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX
    assert GUARD.allows_address(inet, ("127.0.0.1", 8443))  # the mapped dev address
    assert GUARD.allows_address(inet6, ("::ffff:127.0.0.1", 8443, 0, 0))  # the same, IPv4-mapped
    assert GUARD.allows_address(inet, ("10.1.2.3", 8080))  # an IP-literal entry
    assert GUARD.allows_address(inet, ("graph.microsoft.com", 443))  # a name (resolved in C): judged by name
    assert GUARD.allows_address(unix, "/run/some.sock")
    assert not GUARD.allows_address(inet, ("127.0.0.1", 8444))  # loopback only where mapped
    assert not GUARD.allows_address(inet, ("10.1.2.3", 443))
    assert not GUARD.allows_address(inet, ("graph.microsoft.com", 80))
    assert not GUARD.allows_address(inet, ("appliance.internal", 443))  # resolvable is not connectable
    assert not GUARD.allows_address(inet, ("", 8443))
    assert not GUARD.allows_address(inet, ("127.1", 8443))
    assert not GUARD.allows_address(getattr(socket, "AF_PACKET", 17), ("eth0", 0x0800))
    assert not GUARD.allows_address(inet, "garbage")


def test_resolved_addresses_are_allowed_on_the_names_ports_but_never_local_ones() -> None:
    guard = SocketGuard(Allowlist(["https://graph.microsoft.com", "https://localhost:9443"]))
    assert not guard.allows_address(socket.AF_INET, ("20.190.1.1", 443))
    guard.record("graph.microsoft.com", _infos("20.190.1.1", "2603:1000::1", "127.0.0.1", "169.254.169.254"))
    guard.record("exfil.example", _infos("203.0.113.9"))  # not an allowed name: never recorded
    assert guard.allows_address(socket.AF_INET, ("20.190.1.1", 443))
    assert guard.allows_address(socket.AF_INET6, ("2603:1000::1", 443, 0, 0))
    assert not guard.allows_address(socket.AF_INET, ("20.190.1.1", 8443))
    assert not guard.allows_address(socket.AF_INET, ("127.0.0.1", 443))  # a DNS answer cannot make loopback ok
    assert not guard.allows_address(socket.AF_INET, ("169.254.169.254", 443))  # nor cloud metadata
    assert not guard.allows_address(socket.AF_INET, ("203.0.113.9", 443))
    guard.record("localhost", _infos("127.0.0.1"))  # an explicit localhost entry may
    assert guard.allows_address(socket.AF_INET, ("127.0.0.1", 9443))


def test_the_resolved_memory_is_bounded() -> None:
    guard = SocketGuard(Allowlist(["https://graph.microsoft.com"]))
    guard.record("graph.microsoft.com", _infos(*(f"20.{i // 65536}.{i // 256 % 256}.{i % 256}"
                                                 for i in range(MAX_RESOLVED + 10))))
    assert len(guard._resolved) == MAX_RESOLVED
    assert not guard.allows_address(socket.AF_INET, ("20.0.0.0", 443))  # the oldest went first
