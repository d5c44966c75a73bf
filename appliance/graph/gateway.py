"""The Graph gateway: msgraph-sdk's GraphServiceClient on our own httpx client, plus one call wrapper
that sends the caller's client-request-id, records Graph's request-id and status, and retries only
what is safe to retry.

The rule for writes, in one place: every request that is not a GET is a write (the gateway sees the
method of each request it sends, so no caller can forget to say so), and a write that may have reached
Graph is never sent again. It is retried only when Graph provably did
not take it: the connection was never made (connection refused, TLS or connect timeout, no free
connection), or Graph answered 429 (throttled requests fail and are not processed:
microsoftgraph/microsoft-graph-docs-contrib, concepts/throttling.md), waiting Retry-After. Anything
else after the request left (a timeout waiting for the answer, a connection lost after sending, any
5xx) raises `GraphWriteUncertain`: the caller settles the outcome from the directory audit log,
never by sending it again. Reads are retried on 429/503/504 and transport errors, bounded, with jitter.

msgraph-sdk's own retry handler is turned off (it would replay POST/PATCH after a 504 that Graph may
already have committed).
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator
from kiota_abstractions.authentication.base_bearer_token_authentication_provider import (
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph_core import GraphClientFactory

from appliance import ops_log
from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import AsyncGuardedTransport
from appliance.types import ExecutionResult

__all__ = ["ExecutionResult", "GraphCallFailed", "GraphGateway", "GraphWriteUncertain"]

T = TypeVar("T")
RETRYABLE = frozenset({429, 503, 504})
GRAPH_HOST = "graph.microsoft.com"
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
"""Transport errors raised before a byte of the request reached Graph: a write may be sent again."""


class GraphCallFailed(Exception):
    """A Graph call that failed for good (after any retries)."""

    def __init__(self, status: int | None, code: str, message: str, request_id: str | None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


class GraphWriteUncertain(Exception):
    """A write that may have reached Graph and whose answer was lost or was a 5xx: never send it again;
    settle its outcome from the directory audit log."""

    def __init__(self, status: int | None, reason: str, request_id: str | None) -> None:
        super().__init__(f"{status or 'no answer'}: {reason}")
        self.status, self.reason, self.request_id = status, reason, request_id


class _MethodRecorder(httpx.AsyncBaseTransport):
    """Notes the HTTP method of each request by its client-request-id before sending it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, methods: dict[str, str]) -> None:
        self._inner, self._methods = inner, methods

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        crid = request.headers.get("client-request-id")
        if crid:
            self._methods[crid] = request.method
            if len(self._methods) > 10_000:
                self._methods.pop(next(iter(self._methods)))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _TokenProvider(AccessTokenProvider):
    def __init__(self, token: Callable[[], str], host: str) -> None:
        self._token, self._hosts = token, AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: Any = None) -> str:
        return await asyncio.to_thread(self._token)

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class GraphGateway:
    """Owns the GraphServiceClient; `call` runs one operation as the Aid."""

    def __init__(
        self,
        token: Callable[[], str],
        *,
        allowlist: Allowlist,
        host_map: Mapping[str, tuple[str, int]] | None = None,
        tls: ssl.SSLContext | bool = True,
        max_retries: int = 3,
        max_wait: float = 30.0,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._seen: dict[str, tuple[int, str | None]] = {}
        self._methods: dict[str, str] = {}
        transport = transport or AsyncGuardedTransport(allowlist, host_map=host_map, verify=tls, observer=self._observe)
        http = httpx.AsyncClient(transport=_MethodRecorder(transport, self._methods), timeout=timeout)
        options = {RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0, should_retry=False)}
        http = GraphClientFactory.create_with_default_middleware(client=http, options=options)
        auth = BaseBearerTokenAuthenticationProvider(_TokenProvider(token, GRAPH_HOST))
        self.client = GraphServiceClient(request_adapter=GraphRequestAdapter(auth, client=http))
        self.max_retries, self.max_wait, self._sleep = max_retries, max_wait, sleep
        self.attempts: dict[str, int] = {}

    def _observe(self, request: httpx.Request, response: httpx.Response) -> None:
        ops_log.event("graph.call", method=request.method, status=response.status_code)
        crid = request.headers.get("client-request-id")
        if crid:
            self._seen[crid] = (response.status_code, response.headers.get("request-id"))
            if len(self._seen) > 10_000:
                self._seen.pop(next(iter(self._seen)))

    def wire(self, client_request_id: str) -> tuple[int | None, str | None]:
        """(HTTP status, Graph request-id) of the last attempt sent with this client-request-id."""
        return self._seen.get(client_request_id, (None, None))

    async def call(
        self,
        client_request_id: str,
        operation: Callable[[RequestConfiguration[Any]], Awaitable[T]],
        *,
        write: bool = False,
        query: Any = None,
    ) -> T:
        """Run `operation(config)` with the caller's client-request-id.

        A read (GET) is retried on 429/503/504 and transport errors. A write (any other method; `write=True`
        says so up front) is retried only when Graph provably did not take it (429, or no connection made);
        when it may have reached Graph and no clear answer came back (timeout, lost connection, 5xx) this
        raises `GraphWriteUncertain`."""
        attempt = 0
        self._methods.pop(client_request_id, None)
        while True:
            config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query)
            config.headers.add("client-request-id", client_request_id)
            self.attempts[client_request_id] = attempt + 1
            try:
                return await operation(config)
            except (APIError, httpx.TransportError) as exc:
                write = write or self._methods.get(client_request_id, "GET") != "GET"
                if isinstance(exc, httpx.TransportError):
                    await self._transport_error(exc, write=write, attempt=attempt)
                    attempt += 1
                    continue
                status = exc.response_status_code
                retry = status == 429 if write else status in RETRYABLE
                if retry and attempt < self.max_retries:
                    await self._sleep(self._wait(exc, attempt))
                    attempt += 1
                    continue
                if write and status is not None and status >= 500:
                    raise GraphWriteUncertain(status, self._failure(exc, client_request_id).code,
                                              self.wire(client_request_id)[1]) from exc
                raise self._failure(exc, client_request_id) from exc

    async def _transport_error(self, exc: httpx.TransportError, *, write: bool, attempt: int) -> None:
        """Return to retry; raise when the call is over (a write that may have been sent is never retried)."""
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if write and not isinstance(exc, NOT_SENT):
            raise GraphWriteUncertain(None, reason, None) from exc
        if attempt >= self.max_retries:
            raise GraphCallFailed(None, "TransportError", reason, None) from exc
        await self._sleep(self._backoff(attempt))

    def _wait(self, exc: APIError, attempt: int) -> float:
        headers = {k.lower(): v for k, v in dict(exc.response_headers or {}).items()}
        retry_after = headers.get("retry-after")
        if isinstance(retry_after, (set, list)):
            retry_after = next(iter(retry_after), None)
        try:
            return min(float(retry_after), self.max_wait) if retry_after is not None else self._backoff(attempt)
        except ValueError:
            return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, (2**attempt) * random.uniform(0.5, 1.5))

    def _failure(self, exc: APIError, client_request_id: str) -> GraphCallFailed:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or type(exc).__name__
        message = getattr(error, "message", None) or str(exc)
        return GraphCallFailed(exc.response_status_code, str(code), str(message), self.wire(client_request_id)[1])
