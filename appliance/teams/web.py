"""The aiohttp app: `POST /api/messages` (Teams), `GET /healthz`, `GET /readyz`.

`/api/messages`, in this order: a declared body over `max_bytes` gets 413; the bearer token is checked
on its own (`auth.verify_token`: 401), before a byte of the body is parsed; the body is read (at most
`max_bytes`, else 413) and parsed with a nesting limit (`body.py`: else 400); the token is bound to the
activity (its serviceUrl: else 401); `activities.inspect` answers 403 for another channel, tenant or an
unknown sender; `admission.py` decides whether the turn may run (rate limits, whose conversation,
redelivery); then the bot acknowledges at once (the turn runs in the background).

Every answer that is not 2xx is 400, 401, 403, 413 or 429 by construction: anything that goes wrong
inside the handler after the token was checked is logged and answered 429 with Retry-After (Bot
Framework delivers the activity again later; a redelivery of a turn that did start is recognised and not
run twice). Nothing about the request body, and no header, is logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from appliance import ops_log
from appliance.teams.activities import Inspection, inspect
from appliance.teams.admission import Admission
from appliance.teams.auth import AidBotAuthentication
from appliance.teams.body import BadActivity, parse_activity, read_bounded
from appliance.teams.bot import INSPECTION_KEY, AidBot

Readiness = Callable[[], Awaitable[dict[str, Any]]]
Outcome = tuple[int, str, web.Response]
RETRY_AFTER_SECONDS = 5


def _problem(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


class MessagesEndpoint:
    """`POST /api/messages`."""

    def __init__(self, *, adapter: CloudAdapter, auth: AidBotAuthentication, bot: AidBot, admission: Admission,
                 allowed_tenant_id: str, max_bytes: int) -> None:
        self.adapter, self.auth, self.bot, self.admission = adapter, auth, bot, admission
        self.allowed_tenant_id, self.max_bytes = allowed_tenant_id, max_bytes

    async def handle(self, request: web.Request) -> web.Response:
        """Validate, authenticate, classify, admit, then hand the activity to the bot. Never a 5xx."""
        try:
            status, reason, response = await self._handle(request)
        except Exception as exc:  # by construction never a 5xx: the channel is asked to deliver it again later
            status, reason = 429, "failed"
            ops_log.event("http.failed", error=type(exc).__name__)
            response = _problem(429, "TryAgainLater", "The activity could not be handled now; send it again later.",
                                **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        ops_log.event("http.activity", status=status, reason=reason)
        return response

    async def _handle(self, request: web.Request) -> Outcome:
        if request.content_length is not None and request.content_length > self.max_bytes:
            return self._too_large()
        try:
            await self.auth.verify_token(request.headers.get("Authorization", ""))
        except PermissionError:
            return 401, "unauthenticated", _problem(401, "Unauthorized", "Authorization has been denied.")
        raw = await read_bounded(request.content, self.max_bytes)
        if raw is None:
            return self._too_large()
        if "application/json" not in request.headers.get("Content-Type", ""):
            return 400, "not_json", _problem(400, "BadContentType", "Send the activity as application/json.")
        try:
            activity = parse_activity(raw)
        except BadActivity as bad:
            return 400, bad.reason, _problem(400, "MalformedActivity", "The body is not a Bot Framework activity.")
        try:
            result = await self.auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        except PermissionError:
            return 401, "unauthenticated", _problem(401, "Unauthorized", "Authorization has been denied.")
        try:
            inspection = inspect(activity, self.allowed_tenant_id)
        except Exception:  # an odd shape botbuilder accepted but our reading cannot: not an activity we serve
            return 400, "unreadable", _problem(400, "MalformedActivity", "The body is not a Bot Framework activity.")
        inspection = await self.admission.admit(inspection)
        return await self._answer(result, activity, inspection)

    async def _answer(self, result: AuthenticateRequestResult, activity: Activity, inspection: Inspection) -> Outcome:
        status, reason = inspection.status, inspection.reason
        if status in (400, 403):
            return status, reason, _problem(status, "Forbidden" if status == 403 else "BadRequest", "Not served here.")
        if status == 429:
            return status, reason, _problem(429, "TooManyRequests", "Too many new conversations right now.",
                                            **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        if inspection.turn is None and inspection.reply is None:
            return 200, reason, web.Response(status=200)

        async def logic(context: Any) -> None:
            context.turn_state[INSPECTION_KEY] = inspection
            await self.bot.on_turn(context)

        await self.adapter.process_activity(result, activity, logic)
        return status, reason, web.Response(status=status)

    def _too_large(self) -> Outcome:
        message = f"An activity may be at most {self.max_bytes} bytes."
        return 413, "too_large", _problem(413, "ActivityTooLarge", message)


def build_web_app(endpoint: MessagesEndpoint, ready: Readiness) -> web.Application:
    """The HTTP surface of the appliance."""
    app = web.Application(client_max_size=endpoint.max_bytes + 1)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "up"})

    async def readyz(request: web.Request) -> web.Response:
        checks = await ready()
        ok = all(value is True for value in checks.values())
        return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)

    async def other_method(request: web.Request) -> web.Response:
        return _problem(400, "UsePost", "POST a Bot Framework activity to /api/messages.")

    app.router.add_post("/api/messages", endpoint.handle)
    app.router.add_route("*", "/api/messages", other_method)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
