"""A `requests` transport adapter that enforces the allowlist and (dev tenant) maps real hosts locally.

Mount it on a `requests.Session` for every scheme: a destination off the allowlist raises
`EgressBlocked` before a connection is opened. For a mapped host the URL and the Host header stay the
real ones; only the connection goes to the mapped address, with the real name as TLS SNI and as the
name the certificate must carry (the same rule as `httpx_transport`).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from appliance.egress.allowlist import Allowlist


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
        self.host_map = dict(host_map or {})
        self.tls = tls or ssl.create_default_context()
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        """Refuse a destination off the allowlist before any connection is opened."""
        self.allowlist.check(str(request.url))
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Connect to the mapped address (if any) while verifying the real host name with our TLS context."""
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get("scheme") == "https":
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["ssl_context"] = self.tls
            pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
        real_host = str(host_params.get("host", ""))
        target = self.host_map.get(real_host)
        if target is not None:
            host_params = {**host_params, "host": target[0], "port": target[1]}
            pool_kwargs["server_hostname"] = real_host
            pool_kwargs["assert_hostname"] = real_host
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
