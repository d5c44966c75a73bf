"""The MCP endpoint over Streamable HTTP, as an OAuth 2.1 resource server, served by uvicorn on the
appliance's own event loop.

Why its own port, on the same loop: `appliance serve` runs aiohttp for Teams; the SDK's transport is an
ASGI app (Starlette). uvicorn's `Server.serve()` is a coroutine, so it runs as one more task of the
running loop: one process, one store, one gate, the same `CatalogRequests` and `Executor` objects,
with no thread hop and no hand-written aiohttp-to-ASGI bridge (Streamable HTTP's SSE streams, session
headers and cancellation are exactly what such a bridge gets wrong). A separate port also lets the
network policy treat the two ingresses apart: Teams reaches /api/messages from the Bot Framework, the
agents reach /mcp from inside the tenant.

Authentication (MCP authorization spec, 2025-06-18 and later): every request to /mcp needs an Entra
access token for this API (validated by `appliance.identity`); otherwise 401 with
`WWW-Authenticate: Bearer ..., resource_metadata="<this server's RFC 9728 metadata URL>"`. The
Protected Resource Metadata names the tenant's Entra as the authorization server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from mcp.server import Server
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route

from appliance import ops_log
from appliance.errors import ConfigError
from appliance.identity import EntraPrincipal, TokenRejected

MCP_PATH = "/mcp"
ROOT_METADATA_PATH = "/.well-known/oauth-protected-resource"
Validate = Callable[[str], Awaitable[EntraPrincipal]]
"""`EntraTokenValidator.validate`: the caller behind a bearer token, or `TokenRejected` (status 401 / 403)."""


class EntraTokenVerifier:
    """The SDK's `TokenVerifier` over the appliance's Entra validator. An invalid token is None (-> 401); a valid
    token without the API's scope or app role comes back without `scope` (-> 403 insufficient_scope); a valid,
    permitted one carries `scope` (the full scope URI), the one scope the SDK's RequireAuthMiddleware asks for."""

    def __init__(self, validate: Validate, scope: str) -> None:
        self._validate, self.scope = validate, scope

    async def verify_token(self, token: str) -> AccessToken | None:
        """The accepted token as the SDK's `AccessToken` (subject = the person's object id), or None."""
        try:
            caller = await self._validate(token)
        except TokenRejected as exc:
            ops_log.event("mcp.unauthorized", reason=exc.reason, status=exc.status)
            if exc.status == 403:
                return AccessToken(token=token, client_id="unknown", scopes=[])
            return None
        return AccessToken(
            token=token, client_id=caller.app_id or "unknown", scopes=[self.scope],
            expires_at=int(caller.claims.get("exp", 0)) or None, subject=caller.object_id,
            claims={"iss": caller.claims.get("iss"), "tid": caller.tenant_id, "oid": caller.object_id},
        )


@dataclass(frozen=True)
class ResourceServer:
    """What the resource server publishes: its URL (the OAuth resource), the authorization server (the
    tenant's Entra v2 issuer) and the scope a client asks for."""

    resource_url: str
    authorization_server: str
    scopes: tuple[str, ...]

    @property
    def metadata_url(self) -> str:
        """The RFC 9728 metadata URL for this resource (path inserted after /.well-known/...)."""
        return str(build_resource_metadata_url(AnyHttpUrl(self.resource_url)))


def _security(resource_url: str, host: str) -> TransportSecuritySettings:
    """DNS-rebinding protection: only the public URL's host (and loopback names) may be in the Host header."""
    public = urlsplit(resource_url)
    hosts = [f"{public.hostname}:*", f"{public.netloc}"] if public.hostname else []
    local = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = [f"{public.scheme}://{public.netloc}"] if public.netloc else []
    local_origins = ["https://localhost:*", "http://localhost:*", "http://127.0.0.1:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=[*hosts, *local],
                                     allowed_origins=[*origins, *local_origins])


def build_app(server: Server[Any], verifier: EntraTokenVerifier, resource: ResourceServer,
              host: str) -> tuple[Starlette, StreamableHTTPSessionManager]:
    """The Starlette app: /mcp behind bearer authentication, and the Protected Resource Metadata."""
    manager = StreamableHTTPSessionManager(app=server, security_settings=_security(resource.resource_url, host))
    protected = RequireAuthMiddleware(StreamableHTTPASGIApp(manager), [verifier.scope],
                                      AnyHttpUrl(resource.metadata_url))
    metadata = create_protected_resource_routes(
        resource_url=AnyHttpUrl(resource.resource_url),
        authorization_servers=[AnyHttpUrl(resource.authorization_server)], scopes_supported=list(resource.scopes),
        resource_name="aidizen Aid (Microsoft 365 administration)",
    )
    root = [Route(ROOT_METADATA_PATH, endpoint=route.endpoint, methods=["GET", "OPTIONS"]) for route in metadata]
    routes = [Route(MCP_PATH, endpoint=protected), *metadata, *root[:1]]
    middleware = [Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier)),
                  Middleware(AuthContextMiddleware)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lambda _app: manager.run())
    return app, manager


class _LoopServer(uvicorn.Server):
    """uvicorn as a task of an event loop it does not own: the appliance handles SIGTERM/SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class McpEndpoint:
    """A listening MCP endpoint; `stop()` closes it (running calls get a few seconds to finish)."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    url: str

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, finish or cancel running requests, close the sessions."""
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except (TimeoutError, asyncio.CancelledError):
            self.server.force_exit = True
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port ourselves, so a port in use is a clear error (uvicorn would exit the process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"[mcp] cannot listen on {host}:{port}: {exc.strerror}",
                          hint="Pick a free [mcp] port (it must differ from [teams] port).") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_mcp(app: Starlette, *, host: str, port: int, tls_cert: Path | None, tls_key: Path | None,
                    url: str, timeout: float = 30.0) -> McpEndpoint:
    """Start uvicorn on the running loop; returns once it listens (raises ConfigError if it cannot)."""
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=str(tls_cert) if tls_cert else None,
                            ssl_keyfile=str(tls_key) if tls_key else None, lifespan="on", log_level="warning",
                            access_log=False, server_header=False, timeout_graceful_shutdown=5)
    sock = _listen(host, port)
    server = _LoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = asyncio.get_running_loop().time() + timeout
    while not server.started:
        if task.done() or asyncio.get_running_loop().time() > deadline:
            task.cancel()
            sock.close()
            raise ConfigError(f"the MCP endpoint did not start on {host}:{port}",
                              hint="See the lines above; check [mcp] tls_cert / tls_key.")
        await asyncio.sleep(0.05)
    return McpEndpoint(server, task, url)
