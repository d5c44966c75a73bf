"""httpx transports that enforce the allowlist and, for the dev tenant, map real hosts to a local one.

Mapping happens here, at the transport, so the SDKs above build exactly the requests they would send
to Microsoft (same URLs, same headers); TLS still verifies the *real* host name (sent as SNI) against
the certificate, which the dev tenant's CA issues for those names.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping

import httpx

from appliance.egress.allowlist import Allowlist

HostMap = Mapping[str, tuple[str, int]]


def _route(request: httpx.Request, allowlist: Allowlist, host_map: HostMap) -> httpx.Request:
    allowlist.check(str(request.url))
    target = host_map.get(request.url.host)
    if target is None:
        return request
    request.extensions = {**request.extensions, "sni_hostname": request.url.host}
    request.url = request.url.copy_with(host=target[0], port=target[1])
    return request


class GuardedTransport(httpx.BaseTransport):
    """Synchronous transport (used for msal's HTTP client)."""

    def __init__(
        self, allowlist: Allowlist, *, host_map: HostMap | None = None, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.allowlist = allowlist
        self.host_map = dict(host_map or {})
        self._inner = httpx.HTTPTransport(verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_route(request, self.allowlist, self.host_map))

    def close(self) -> None:
        self._inner.close()


Observer = Callable[[httpx.Request, httpx.Response], None]


class AsyncGuardedTransport(httpx.AsyncBaseTransport):
    """Asynchronous transport (used for msgraph-sdk's httpx.AsyncClient). `observer` sees every
    request/response pair that went on the wire (the Graph gateway records status and request-id)."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        host_map: HostMap | None = None,
        verify: ssl.SSLContext | bool = True,
        observer: Observer | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.host_map = dict(host_map or {})
        self.observer = observer
        self._inner = httpx.AsyncHTTPTransport(verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(_route(request, self.allowlist, self.host_map))
        if self.observer:
            self.observer(request, response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying TLS context: the system trust store, or only `ca_bundle` (the dev tenant's CA)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
