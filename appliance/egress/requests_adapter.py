"""A `requests` transport adapter that enforces the allowlist and (dev tenant) maps real hosts locally.

Mount it on a `requests.Session` for every scheme: a destination off the allowlist raises
`EgressBlocked` before a connection is opened (checked on the scheme, host and port requests itself
connects to; a proxy must be on the allowlist too). For a mapped host the URL and the Host header stay the
real ones; only the connection goes to the mapped address, with the real name as TLS SNI and as the
name the certificate must carry (the same rule as `httpx_transport`).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy

from appliance.egress.allowlist import Allowlist, canonical_host, canonical_map


class GuardedHTTPAdapter(HTTPAdapter):
    """`requests` adapter: allowlist check first, then an optional host map, with a fixed TLS context."""

    def __init__(
        self,
        allowlist: Allowlist,
        *,
        host_map: Mapping[str, tuple[str, int]] | None = None,
        tls: ssl.SSLContext | None = None,
        **kwargs: Any,
    ) -> None:
        self.allowlist = allowlist
        self.host_map = canonical_map(host_map)
        self.tls = tls or ssl.create_default_context()
        super().__init__(**kwargs)

    def send(
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, verify: Any = True,
        cert: Any = None, proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        """Refuse a destination off the allowlist (and any proxy that is not on it) before any connection
        is opened. The destination itself is checked where requests decides what to connect to
        (`build_connection_pool_key_attributes`), with requests' own parse of the URL."""
        proxy = select_proxy(str(request.url), proxies) if proxies else None
        if proxy:
            self.allowlist.check(proxy if "://" in proxy else f"http://{proxy}", kind="requests")
        real = urlsplit(str(request.url))
        if canonical_host(real.hostname) in self.host_map and "Host" not in request.headers:
            request = request.copy()  # keep the real Host header: urllib3 would write the mapped address
            request.headers["Host"] = real.netloc.rpartition("@")[2]
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Connect to the mapped address (if any) while verifying the real host name with our TLS context."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, real_host, port = str(host_params.get("scheme", "")), host_params.get("host"), host_params.get("port")
        self.allowlist.check_destination(scheme, real_host, port, kind="requests")
        if scheme == "https":
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["ssl_context"] = self.tls
            pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
        name = canonical_host(real_host)
        target = self.host_map.get(name) if name else None
        if target is not None and name is not None:
            host_params = {**host_params, "host": target[0], "port": target[1]}
            # The real name goes in as SNI and `ssl` verifies the certificate against it. Never set
            # assert_hostname: urllib3 would then switch check_hostname off on our (shared) context.
            pool_kwargs["server_hostname"] = name
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Our TLS context already holds the trust anchors; never add requests' default bundle to it."""
        if cert:
            super().cert_verify(conn, url, False, cert)


def guarded_session(
    allowlist: Allowlist, *, host_map: Mapping[str, tuple[str, int]] | None = None, tls: ssl.SSLContext | None = None
) -> requests.Session:
    """A `requests.Session` that can only reach the allowlist; it ignores proxy and CA environment variables."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE / proxies from the environment must not widen trust or egress
    adapter = GuardedHTTPAdapter(allowlist, host_map=host_map, tls=tls)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
