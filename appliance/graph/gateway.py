"""The Graph gateway: msgraph-sdk's GraphServiceClient on our own httpx client, plus one call wrapper
that sends the caller's client-request-id, records Graph's request-id and status, and retries only
what is safe to retry (429/503/504, honouring Retry-After, bounded, with jitter).

msgraph-sdk's own retry handler is turned off (it would replay POST/PATCH after a 504
that Graph may already have committed); each executor says whether its operation is idempotent.
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

__all__ = ["ExecutionResult", "GraphCallFailed", "GraphGateway"]

T = TypeVar("T")
RETRYABLE = frozenset({429, 503, 504})
GRAPH_HOST = "graph.microsoft.com"


class GraphCallFailed(Exception):
    """A Graph call that failed for good (after any retries)."""

    def __init__(self, status: int | None, code: str, message: str, request_id: str | None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.request_id = status, code, message, request_id


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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._seen: dict[str, tuple[int, str | None]] = {}
        transport = AsyncGuardedTransport(allowlist, host_map=host_map, verify=tls, observer=self._observe)
        http = httpx.AsyncClient(transport=transport, timeout=30.0)
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
        idempotent: bool,
        query: Any = None,
    ) -> T:
        """Run `operation(config)` with the caller's client-request-id; retry only if `idempotent`."""
        attempt = 0
        while True:
            config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query)
            config.headers.add("client-request-id", client_request_id)
            self.attempts[client_request_id] = attempt + 1
            try:
                return await operation(config)
            except APIError as exc:
                status = exc.response_status_code
                if not (idempotent and status in RETRYABLE and attempt < self.max_retries):
                    raise self._failure(exc, client_request_id) from exc
                await self._sleep(self._wait(exc, attempt))
                attempt += 1
            except httpx.TransportError as exc:
                if not (idempotent and attempt < self.max_retries):
                    raise GraphCallFailed(None, "TransportError", str(exc) or type(exc).__name__, None) from exc
                await self._sleep(self._backoff(attempt))
                attempt += 1

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
