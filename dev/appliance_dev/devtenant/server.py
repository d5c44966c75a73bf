"""The dev tenant server: Entra + Graph emulators on one HTTPS port, in its own thread and event loop
(botbuilder's metadata fetch is blocking, so the tenant never shares the appliance's loop)."""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives import serialization

from appliance_dev.devtenant import audit_log, botframework, entra, entra_api, graph_groups, graph_users, roles
from appliance_dev.devtenant.certs import DevTenantKeys, ensure_keys
from appliance_dev.devtenant.clock import AuditLatency
from appliance_dev.devtenant.connector_limits import ThreadRateLimit
from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext
from appliance_dev.devtenant.faults import admin_faults, fault_middleware
from appliance_dev.devtenant.state import TenantState
from appliance_dev.devtenant.teams_channel import TeamsChannel


def build_app(context: DevTenantContext) -> web.Application:
    """The aiohttp application with every emulated route."""
    app = web.Application(middlewares=[fault_middleware], client_max_size=1 << 20)
    app[CONTEXT_KEY] = context
    graph_users.add_routes(app)
    graph_groups.add_routes(app)
    audit_log.add_routes(app)
    roles.add_routes(app)
    entra.add_routes(app)
    entra_api.add_routes(app)
    botframework.add_routes(app, context)
    app.router.add_route("POST", "/_admin/faults", admin_faults)
    app.router.add_route("DELETE", "/_admin/faults", admin_faults)
    app.router.add_post("/_admin/clock", admin_clock)
    app.router.add_post("/_admin/keys/rotate", admin_rotate_keys)
    return app


async def admin_clock(request: web.Request) -> web.Response:
    """POST {"advance_seconds": N}: move the tenant's clock forward (late audit entries become readable)."""
    body = await request.json()
    now = request.app[CONTEXT_KEY].clock.advance(float(body.get("advance_seconds", 0)))
    return web.json_response({"now": now.isoformat()})


async def admin_rotate_keys(request: web.Request) -> web.Response:
    """POST: roll the signing key over (a new kid signs from now on; the old key stays published)."""
    return web.json_response({"kid": request.app[CONTEXT_KEY].rotate_signing_key()})


class DevTenant:
    """A running dev tenant. `start()` returns once it listens; `stop()` shuts it down."""

    def __init__(self, directory: Path | None, *, host: str = "127.0.0.1", port: int = 0, persist: bool = True,
                 audit_latency: AuditLatency | None = None) -> None:
        base = directory or Path.cwd() / "devtenant"
        self.keys: DevTenantKeys = ensure_keys(base)
        signing = serialization.load_pem_private_key(self.keys.signing_key.read_bytes(), password=None)
        self.context = DevTenantContext(
            TenantState.load(base if persist else None), signing, ca_cert=self.keys.ca_cert  # type: ignore[arg-type]
        )
        if audit_latency is not None:
            self.context.audit_latency = audit_latency
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"https://{self.host}:{self.port}"

    def start(self) -> DevTenant:
        """Start serving on a background thread; returns when the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._start())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                self._close_after_failed_start()
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="devtenant", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    def _close_after_failed_start(self) -> None:
        """Release what a failed start set up, on its own thread: a loop left for the garbage collector is
        closed at interpreter exit and prints a traceback after the one-line error the operator was given."""
        assert self._loop is not None
        try:
            if self._runner is not None:
                self._loop.run_until_complete(self._runner.cleanup())
        finally:
            self._runner = None
            self._loop.close()
            self._loop = None

    async def _start(self) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.keys.server_cert, self.keys.server_key)
        self._runner = web.AppRunner(build_app(self.context), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=tls)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    @property
    def teams(self) -> TeamsChannel:
        """The Teams emulator of this running tenant (bots, conversations, transcripts)."""
        assert self._runner is not None, "start the dev tenant first"
        return self._runner.app[botframework.CHANNEL_KEY]

    @property
    def connector_limits(self) -> ThreadRateLimit:
        """The Bot Connector's per-conversation rate limits of this running tenant."""
        assert self._runner is not None, "start the dev tenant first"
        return self._runner.app[botframework.LIMITS_KEY]

    def register_bot(self, app_id: str, secret: str, endpoint: str) -> None:
        """Register the Aid's bot (client secret and messaging endpoint); persisted with the tenant."""
        self.teams.register_bot(app_id, secret, endpoint)

    def register_bot_certificate(self, app_id: str, certificate_pem: str) -> None:
        """Upload a certificate (PEM) to the registered bot's app registration; persisted with the tenant."""
        self.teams.register_bot_certificate(app_id, certificate_pem)

    def register_api(self, app_id: str, app_id_uri: str, *, scopes: list[str], app_roles: list[str]) -> None:
        """Register an API the tenant issues access tokens for (e.g. the Aid's MCP endpoint); persisted."""
        entra_api.register_api(self.context, app_id, app_id_uri, scopes=scopes, app_roles=app_roles)

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        if not self._loop or not self._runner:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> DevTenant:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
