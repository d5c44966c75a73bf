"""An aiohttp client connector that enforces the allowlist and (dev tenant) maps real hosts locally.

`GuardedConnector.connect` checks the scheme, host and port aiohttp will connect to (`req.url.scheme`,
`req.url.raw_host`, `req.port`), and any proxy, before it asks the pool or opens a socket; a destination
off the allowlist raises `EgressBlocked` (counted and logged once, host and port only).

For a mapped host the URL and the Host header stay the real ones: only name resolution changes
(`MappingResolver` answers the mapped address), so aiohttp still sends the real name as TLS SNI and
verifies the certificate against it, with the TLS context given here (the dev tenant's CA in dev).
Environment proxies are ignored (`trust_env=False`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from appliance.egress.allowlist import Allowlist, HostMap, canonical_host, canonical_map

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class MappingResolver(AbstractResolver):
    """Resolves a mapped host to its mapped address and port; every other name through `inner`
    (default: aiohttp's ThreadedResolver, i.e. `socket.getaddrinfo`, which the socket guard sees)."""

    def __init__(self, host_map: HostMap | None = None, inner: AbstractResolver | None = None) -> None:
        self.host_map = canonical_map(host_map)
        self.inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The mapped address for a mapped host (name kept as `hostname`), else `inner`'s answer."""
        name = canonical_host(host)
        target = self.host_map.get(name) if name else None
        if target is None:
            return await self.inner.resolve(host, port, family)
        address, mapped_port = target
        try:
            version = ipaddress.ip_address(address).version
        except ValueError:  # the mapped address is itself a name (e.g. localhost)
            found = await self.inner.resolve(address, mapped_port, family)
            return [{**result, "hostname": host} for result in found]
        mapped_family = socket.AF_INET6 if version == 6 else socket.AF_INET
        return [ResolveResult(hostname=host, host=address, port=mapped_port, family=mapped_family, proto=0,
                              flags=_NUMERIC)]

    async def close(self) -> None:
        """Close the inner resolver."""
        await self.inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """`TCPConnector` that refuses destinations (and proxies) off the allowlist before any connection."""

    def __init__(
        self, allowlist: Allowlist, *, host_map: HostMap | None = None, tls: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> None:
        self.allowlist = allowlist
        super().__init__(resolver=MappingResolver(host_map), ssl=tls or ssl.create_default_context(), **kwargs)

    async def connect(self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout) -> Connection:
        """Check the destination (and proxy) first; only then get a pooled or new connection."""
        self.allowlist.check_destination(req.url.scheme, req.url.raw_host, req.port, kind="aiohttp")
        if req.proxy is not None:
            self.allowlist.check_destination(req.proxy.scheme, req.proxy.raw_host, req.proxy.port, kind="aiohttp")
        return await super().connect(req, traces, timeout)


def guarded_client_session(
    allowlist: Allowlist,
    host_map: HostMap | None = None,
    tls: ssl.SSLContext | None = None,
    *,
    timeout: aiohttp.ClientTimeout | None = None,
) -> aiohttp.ClientSession:
    """An `aiohttp.ClientSession` that can only reach the allowlist (call it inside a running event loop).

    `host_map` (dev tenant only) sends a real host's connections to a local address; `tls` is the only
    trust the session has (default: the system store). Environment proxies and CA variables are ignored.
    """
    connector = GuardedConnector(allowlist, host_map=host_map, tls=tls)
    return aiohttp.ClientSession(
        connector=connector, trust_env=False, timeout=timeout or aiohttp.ClientTimeout(total=30)
    )
