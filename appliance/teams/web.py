"""The aiohttp app: `POST /api/messages` (Teams), `GET /healthz`, `GET /readyz`.

`/api/messages` reads at most `max_bytes`, answers 400 for anything that is not a JSON activity, 401
for any authentication failure (botbuilder's validation, made strict in `auth.py`), 403 for another
channel, tenant or an unknown sender, and otherwise acknowledges at once (the turn runs in the
background). Nothing about the request body is logged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from appliance import ops_log
from appliance.teams.activities import inspect
from appliance.teams.auth import AidBotAuthentication
from appliance.teams.bot import INSPECTION_KEY, AidBot

Readiness = Callable[[], Awaitable[dict[str, Any]]]


def _problem(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class MessagesEndpoint:
    """`POST /api/messages`."""

    def __init__(self, *, adapter: CloudAdapter, auth: AidBotAuthentication, bot: AidBot,
                 allowed_tenant_id: str, max_bytes: int) -> None:
        self.adapter, self.auth, self.bot = adapter, auth, bot
        self.allowed_tenant_id, self.max_bytes = allowed_tenant_id, max_bytes

    async def handle(self, request: web.Request) -> web.Response:
        """Validate, authenticate, classify, then hand the activity to the bot."""
        status, reason, response = await self._handle(request)
        ops_log.event("http.activity", status=status, reason=reason)
        return response

    async def _handle(self, request: web.Request) -> tuple[int, str, web.Response]:
        too_large = f"An activity may be at most {self.max_bytes} bytes."
        if request.content_length is not None and request.content_length > self.max_bytes:
            return 400, "too_large", _problem(400, "ActivityTooLarge", too_large)
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                return 400, "too_large", _problem(400, "ActivityTooLarge", too_large)
            chunks.append(chunk)
        raw = b"".join(chunks)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return 400, "not_json", _problem(400, "BadContentType", "Send the activity as application/json.")
        try:
            body = json.loads(raw)
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except (ValueError, TypeError, AttributeError, KeyError):
            activity = None
        if activity is None or not activity.type:
            return 400, "malformed", _problem(400, "MalformedActivity", "The body is not a Bot Framework activity.")
        try:
            result = await self.auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        except PermissionError:
            return 401, "unauthenticated", _problem(401, "Unauthorized", "Authorization has been denied.")
        inspection = inspect(activity, self.allowed_tenant_id)
        if inspection.status in (400, 403):
            return inspection.status, inspection.reason, _problem(inspection.status, "Forbidden", "Not served here.")
        if inspection.turn is None and inspection.reply is None:
            return 200, inspection.reason, web.Response(status=200)

        async def logic(context: Any) -> None:
            context.turn_state[INSPECTION_KEY] = inspection
            await self.bot.on_turn(context)

        await self.adapter.process_activity(result, activity, logic)
        return inspection.status, inspection.reason, web.Response(status=inspection.status)


def build_web_app(endpoint: MessagesEndpoint, ready: Readiness) -> web.Application:
    """The HTTP surface of the appliance."""
    app = web.Application(client_max_size=endpoint.max_bytes + 1)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def readyz(request: web.Request) -> web.Response:
        checks = await ready()
        ok = all(value is True for value in checks.values())
        return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)

    app.router.add_post("/api/messages", endpoint.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
