"""Bot Framework and Teams emulation: what Teams and the Bot Connector service do for the Aid's bot.

- Channel -> bot: OpenID metadata and signing keys at the real `login.botframework.com` paths (with the
  `msteams` endorsement), so botbuilder's own JWT validation runs unmodified; activities are signed
  like Teams signs them (issuer `https://api.botframework.com`, audience = the bot's app id,
  `serviceurl` claim) and POSTed to the bot's messaging endpoint.
- Bot -> channel: the Bot Connector API under the Teams service URL (`/{region}/v3/conversations/...`):
  send, reply (`.../activities/{replyToId}`) and update in place (PUT), each checked against a bot
  token that the dev tenant's Entra issued by client credentials.
- `/_admin/teams/...`: send a message as a dev-tenant user and read the bot's answers (the demo, `chat`
  and tests use it).
- The Bot Connector's answers as Teams documents them (MicrosoftDocs/msteams-docs,
  msteams-platform/bots/build-conversational-capability.md, "Status codes"; bots/how-to/rate-limit.md):
  per-conversation rate limits (`connector_limits.py`) answer `429 Throttled`; fault rules inject
  429 with Retry-After, 412 PreconditionFailed, 502/504, 403 ConversationBlockedByUser /
  BotNotInConversationRoster and 413 MessageSizeTooBig on these routes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from aiohttp import web

from appliance_dev.devtenant.connector_limits import ThreadRateLimit
from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext
from appliance_dev.devtenant.teams_channel import TeamsChannel, conversation_id

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_CONNECTOR_AUDIENCE = "https://api.botframework.com"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
OPENID_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
CHANNEL_KEY: web.AppKey[TeamsChannel] = web.AppKey("teams-channel", TeamsChannel)
LIMITS_KEY: web.AppKey[ThreadRateLimit] = web.AppKey("teams-rate-limit", ThreadRateLimit)
MAX_ACTIVITY_BYTES = 262_144
"""The dev tenant answers 413 MessageSizeTooBig above 256 KiB (Teams' own limit is lower and not modelled here)."""


def channel_token(ctx: DevTenantContext, audience: str, service_url: str = SERVICE_URL, **override: Any) -> str:
    """A channel -> bot token as Teams signs it; `override` changes claims (tests forge bad ones with it)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": BOTFRAMEWORK_ISSUER, "aud": audience, "serviceurl": service_url,
                              "nbf": now - 5, "iat": now, "exp": now + 3600}
    claims.update(override)
    return ctx.sign({k: v for k, v in claims.items() if v is not None})


def bot_token(ctx: DevTenantContext, app_id: str, tenant: str) -> dict[str, Any]:
    """The client-credentials answer for a registered bot: a token the connector accepts."""
    now = int(time.time())
    token = ctx.sign({"aud": BOT_CONNECTOR_AUDIENCE, "iss": f"https://login.microsoftonline.com/{tenant}/v2.0",
                      "appid": app_id, "azp": app_id, "tid": tenant, "iat": now, "nbf": now,
                      "exp": now + ctx.token_lifetime, "uti": uuid.uuid4().hex})
    return {"token_type": "Bearer", "expires_in": ctx.token_lifetime, "ext_expires_in": ctx.token_lifetime,
            "access_token": token}


async def openid_metadata(request: web.Request) -> web.Response:
    """Bot Framework's OpenID metadata (channel -> bot tokens)."""
    return web.json_response({
        "issuer": BOTFRAMEWORK_ISSUER,
        "authorization_endpoint": "https://invalid.botframework.com",
        "jwks_uri": f"https://login.botframework.com{KEYS_PATH}",
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    })


async def signing_keys(request: web.Request) -> web.Response:
    """The channel signing keys, each endorsed for the channels it may sign for."""
    keys = [{**jwk, "endorsements": ["msteams"]} for jwk in request.app[CONTEXT_KEY].jwks()]
    return web.json_response({"keys": keys})


def _bot_caller(request: web.Request) -> str | None:
    """The app id of a valid bot token on this connector request, or None."""
    ctx = request.app[CONTEXT_KEY]
    header = request.headers.get("Authorization", "")
    try:
        claims = ctx.verify(header.removeprefix("Bearer "), BOT_CONNECTOR_AUDIENCE)
    except jwt.InvalidTokenError:
        return None
    app_id = str(claims.get("appid", ""))
    return app_id if app_id in ctx.state.data.get("bots", {}) else None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _limited(request: web.Request, app_id: str) -> web.Response | None:
    """413 for an oversized activity, 429 over the conversation's rate limit, else None."""
    if (request.content_length or 0) > MAX_ACTIVITY_BYTES:
        return _error(413, "MessageSizeTooBig", "Message size too large.")
    if not request.app[LIMITS_KEY].allow(app_id, request.match_info["cid"]):
        return _error(429, "Throttled", "Too many requests.")
    return None


async def post_activity(request: web.Request) -> web.Response:
    """POST /{region}/v3/conversations/{cid}/activities[/{replyToId}]: the bot sends or replies."""
    app_id = _bot_caller(request)
    if app_id is None:
        return _error(401, "Unauthorized", "Authorization has been denied for this request.")
    channel = request.app[CHANNEL_KEY]
    cid = request.match_info["cid"]
    if not channel.knows(cid):
        return _error(404, "ConversationNotFound", "Conversation not found.")
    if (refusal := _limited(request, app_id)) is not None:
        return refusal
    activity = await request.json()
    return web.json_response({"id": channel.record_from_bot(cid, activity, request.match_info.get("reply_to"))})


async def put_activity(request: web.Request) -> web.Response:
    """PUT /{region}/v3/conversations/{cid}/activities/{aid}: the bot updates a message (a card) in place."""
    app_id = _bot_caller(request)
    if app_id is None:
        return _error(401, "Unauthorized", "Authorization has been denied for this request.")
    if (refusal := _limited(request, app_id)) is not None:
        return refusal
    channel = request.app[CHANNEL_KEY]
    updated = channel.update_from_bot(request.match_info["cid"], request.match_info["aid"], await request.json())
    if not updated:
        return _error(404, "ActivityNotFound", "The activity to update does not exist.")
    return web.json_response({"id": request.match_info["aid"]})


async def admin_send(request: web.Request) -> web.Response:
    """POST /_admin/teams/send {"from": upn, "text": ..., "value": {...}}: a user writes to the bot.

    Answers with the bot endpoint's HTTP status and the conversation id.
    """
    body = await request.json()
    channel = request.app[CHANNEL_KEY]
    status, cid, activity_id = await channel.send_as(str(body.get("from", "")), body.get("text"), body.get("value"))
    return web.json_response({"status": status, "conversation": cid, "activity": activity_id})


async def admin_transcript(request: web.Request) -> web.Response:
    """GET /_admin/teams/conversations/{cid}/activities?after=N: what the bot sent (with updates)."""
    after = int(request.query.get("after", "0"))
    return web.json_response({"activities": request.app[CHANNEL_KEY].transcript(request.match_info["cid"], after)})


async def admin_conversation(request: web.Request) -> web.Response:
    """GET /_admin/teams/users/{upn}/conversation: the id of that user's 1:1 chat with the bot."""
    user = request.app[CONTEXT_KEY].state.user(request.match_info["upn"])
    if user is None:
        return _error(404, "UserNotFound", "No such user in the dev tenant.")
    return web.json_response({"conversation": conversation_id(user["id"])})


async def admin_register_bot(request: web.Request) -> web.Response:
    """POST /_admin/teams/bot {"app_id", "secret", "endpoint"}: register the bot and its messaging endpoint."""
    body = await request.json()
    request.app[CHANNEL_KEY].register_bot(str(body["app_id"]), str(body["secret"]), str(body["endpoint"]))
    return web.json_response({"ok": True})


def add_routes(app: web.Application, ctx: DevTenantContext) -> None:
    """Mount the Bot Framework, Bot Connector and Teams admin routes."""
    app[CHANNEL_KEY] = TeamsChannel(ctx, SERVICE_URL, channel_token)
    app[LIMITS_KEY] = ThreadRateLimit()
    app.router.add_get(OPENID_PATH, openid_metadata)
    app.router.add_get(KEYS_PATH, signing_keys)
    app.router.add_post("/{region}/v3/conversations/{cid}/activities", post_activity)
    app.router.add_post("/{region}/v3/conversations/{cid}/activities/{reply_to}", post_activity)
    app.router.add_put("/{region}/v3/conversations/{cid}/activities/{aid}", put_activity)
    app.router.add_post("/_admin/teams/send", admin_send)
    app.router.add_post("/_admin/teams/bot", admin_register_bot)
    app.router.add_get("/_admin/teams/conversations/{cid}/activities", admin_transcript)
    app.router.add_get("/_admin/teams/users/{upn}/conversation", admin_conversation)
