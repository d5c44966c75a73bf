"""httpx transports that enforce the allowlist and, for the dev tenant, map real hosts to a local one.

An adapter around the pure allowlist, in httpx's own style: each transport wraps an inner transport
(by default httpx's real one) and hands it the checked, possibly re-addressed request, so its logic is
testable with `httpx.MockTransport` as the inner one. Mapping happens here, at the transport, so the
SDKs above build exactly the requests they would send to Microsoft (same URLs, same headers); TLS still
verifies the *real* host name (sent as SNI) against the certificate, which the dev tenant's CA issues
for those names.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx

from appliance.egress.allowlist import Allowlist, HostMap, canonical_host, canonical_map


def _route(request: httpx.Request, allowlist: Allowlist, host_map: HostMap, kind: str) -> httpx.Request:
    """Check what httpcore will connect to (scheme, IDNA-encoded host, port), then apply the host map."""
    url = request.url
    allowlist.check_destination(url.scheme, url.raw_host, url.port, kind=kind)
    real_host = canonical_host(url.raw_host)
    target = host_map.get(real_host) if real_host else None
    if target is None or real_host is None:
        return request
    request.extensions = {**request.extensions, "sni_hostname": real_host}
    request.url = url.copy_with(host=target[0], port=target[1])
    return request


class GuardedTransport(httpx.BaseTransport):
    """Synchronous transport (used for msal's HTTP client), around `inner` (default: httpx's, with `verify`)."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        host_map: HostMap | None = None,
        verify: ssl.SSLContext | bool = True,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.host_map = canonical_map(host_map)
        self._inner = inner or httpx.HTTPTransport(verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a destination off the allowlist (EgressBlocked) before any connection is opened."""
        return self._inner.handle_request(_route(request, self.allowlist, self.host_map, "httpx"))

    def close(self) -> None:
        self._inner.close()


Observer = Callable[[httpx.Request, httpx.Response], None]


class AsyncGuardedTransport(httpx.AsyncBaseTransport):
    """Asynchronous transport (used for msgraph-sdk's httpx.AsyncClient), around `inner` (default: httpx's,
    with `verify`). `observer` sees every request/response pair that went on the wire (the Graph gateway
    records status and request-id)."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        host_map: HostMap | None = None,
        verify: ssl.SSLContext | bool = True,
        observer: Observer | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.host_map = canonical_map(host_map)
        self.observer = observer
        self._inner = inner or httpx.AsyncHTTPTransport(verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a destination off the allowlist (EgressBlocked) before any connection is opened."""
        response = await self._inner.handle_async_request(_route(request, self.allowlist, self.host_map, "httpx"))
        if self.observer:
            self.observer(request, response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying TLS context: the system trust store, or only `ca_bundle` (the dev tenant's CA)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
