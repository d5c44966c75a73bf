"""The allowlist refuses before any byte is sent: a real listening socket sees no connection."""

from __future__ import annotations

import socket

import httpx
import pytest

from appliance.egress import Allowlist, EgressBlocked
from appliance.egress.httpx_transport import AsyncGuardedTransport, GuardedTransport
from tests.conftest import saw_a_connection


def test_matching_is_exact_on_scheme_host_and_port() -> None:
    allow = Allowlist(["https://graph.microsoft.com", "https://login.microsoftonline.com:443"])
    assert allow.allows("https://graph.microsoft.com/v1.0/users")
    assert allow.allows("https://GRAPH.microsoft.com:443/x")
    assert not allow.allows("http://graph.microsoft.com/v1.0/users")
    assert not allow.allows("https://graph.microsoft.com:8443/")
    assert not allow.allows("https://graph.microsoft.com.evil.example/")
    assert not allow.allows("https://evil.example/?https://graph.microsoft.com")
    assert not allow.allows("not a url")
    assert not Allowlist([]).allows("https://graph.microsoft.com/")


def test_entries_must_be_plain_origins() -> None:
    with pytest.raises(ValueError):
        Allowlist(["graph.microsoft.com"])


def test_a_blocked_call_never_reaches_the_socket(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    client = httpx.Client(transport=GuardedTransport(Allowlist(["https://graph.microsoft.com"])))
    with pytest.raises(EgressBlocked, match=f"127.0.0.1:{port}"):
        client.get(f"http://127.0.0.1:{port}/exfiltrate")
    assert not saw_a_connection(listener)


async def test_the_async_transport_refuses_the_same_way(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    async with httpx.AsyncClient(transport=AsyncGuardedTransport(Allowlist([]))) as client:
        with pytest.raises(EgressBlocked):
            await client.get(f"https://127.0.0.1:{port}/")
    assert not saw_a_connection(listener)


def test_an_allowed_call_does_reach_the_socket(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    client = httpx.Client(transport=GuardedTransport(Allowlist([f"http://127.0.0.1:{port}"])), timeout=0.5)
    with pytest.raises(httpx.HTTPError):
        client.get(f"http://127.0.0.1:{port}/")  # nobody answers, but the connection is made
    assert saw_a_connection(listener)
