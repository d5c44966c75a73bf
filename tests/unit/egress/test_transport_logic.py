"""The httpx transports' own logic, with `httpx.MockTransport` as the inner transport (no socket at all):
the allowlist is checked before the inner transport sees anything, a dev-tenant host is re-addressed
with its real name kept for TLS (SNI) and in the Host header, and the observer sees what went out."""

from __future__ import annotations

import httpx
import pytest

from appliance.egress import Allowlist, EgressBlocked
from appliance.egress.httpx_transport import AsyncGuardedTransport, GuardedTransport

GRAPH = "https://graph.microsoft.com"
DEV = {"graph.microsoft.com": ("127.0.0.1", 8443)}


class Inner:
    """What reached the inner transport."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(200, json={"ok": True})


def test_a_refused_destination_never_reaches_the_inner_transport() -> None:
    inner = Inner()
    client = httpx.Client(transport=GuardedTransport(Allowlist([GRAPH]), inner=httpx.MockTransport(inner)))
    for url in ("https://evil.example/", "http://graph.microsoft.com/", "https://graph.microsoft.com:8443/"):
        with pytest.raises(EgressBlocked):
            client.get(url)
    assert inner.seen == []


def test_an_allowed_request_goes_through_unchanged() -> None:
    inner = Inner()
    client = httpx.Client(transport=GuardedTransport(Allowlist([GRAPH]), inner=httpx.MockTransport(inner)))
    assert client.get(f"{GRAPH}/v1.0/me").json() == {"ok": True}
    (request,) = inner.seen
    assert str(request.url) == f"{GRAPH}/v1.0/me" and "sni_hostname" not in request.extensions


def test_a_mapped_host_is_re_addressed_but_keeps_its_real_name_for_tls_and_host() -> None:
    inner = Inner()
    guarded = GuardedTransport(Allowlist([GRAPH]), host_map=DEV, inner=httpx.MockTransport(inner))
    httpx.Client(transport=guarded).get(f"{GRAPH}/v1.0/users")
    (request,) = inner.seen
    assert (request.url.host, request.url.port, request.url.path) == ("127.0.0.1", 8443, "/v1.0/users")
    assert request.extensions["sni_hostname"] == "graph.microsoft.com"
    assert request.headers["Host"] == "graph.microsoft.com"


async def test_the_async_transport_checks_maps_and_reports_to_its_observer() -> None:
    inner, observed = Inner(), []
    guarded = AsyncGuardedTransport(
        Allowlist([GRAPH]), host_map=DEV, inner=httpx.MockTransport(inner),
        observer=lambda request, response: observed.append((request.url.host, response.status_code)),
    )
    async with httpx.AsyncClient(transport=guarded) as client:
        await client.get(f"{GRAPH}/v1.0/users")
        with pytest.raises(EgressBlocked):
            await client.get("https://login.microsoftonline.com/")
    assert observed == [("127.0.0.1", 200)] and len(inner.seen) == 1
