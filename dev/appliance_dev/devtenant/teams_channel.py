"""The Teams side of the dev tenant: registered bots, 1:1 conversations, and what each side sent.

A user's message becomes a Teams-shaped activity, signed like Teams signs it, POSTed to the bot's
messaging endpoint over HTTPS. What the bot sends back through the connector is kept as a transcript
of events (`message`, `typing`, `update`) that readers page through with `after`.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from appliance_dev.devtenant.context import DevTenantContext

TokenMaker = Callable[..., str]


def conversation_id(user_id: str) -> str:
    """The personal (1:1) conversation id of a user with the bot: stable per user, shaped like Teams'."""
    return "a:1dev" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


class TeamsChannel:
    """Bots, conversations and transcripts of one dev tenant (thread-safe)."""

    def __init__(self, ctx: DevTenantContext, service_url: str, make_token: TokenMaker) -> None:
        self.ctx, self.service_url, self._make_token = ctx, service_url, make_token
        self._lock = threading.Lock()
        self._events: dict[str, list[dict[str, Any]]] = {}

    # -- bots -------------------------------------------------------------------------------------
    def register_bot(self, app_id: str, secret: str, endpoint: str) -> None:
        """Register (or re-register) a bot: its client secret and messaging endpoint."""
        with self.ctx.state.lock:
            bots = self.ctx.state.data.setdefault("bots", {})
            kept = bots.get(app_id, {}).get("certificates")  # uploaded certificates outlive a new secret
            bots[app_id] = {"secretSha256": hashlib.sha256(secret.encode()).hexdigest(), "endpoint": endpoint,
                            **({"certificates": kept} if kept else {})}
        self.ctx.state.save()

    def register_bot_certificate(self, app_id: str, certificate_pem: str) -> None:
        """Upload a certificate credential for a registered bot (the app registration's keyCredentials are
        multi-valued: each uploaded certificate is accepted until removed)."""
        with self.ctx.state.lock:
            bot = self.ctx.state.data.get("bots", {})[app_id]
            bot.setdefault("certificates", []).append(certificate_pem)
        self.ctx.state.save()

    def bot(self) -> tuple[str, dict[str, Any]]:
        """The registered bot (the dev tenant has one Aid)."""
        bots = self.ctx.state.data.get("bots", {})
        if not bots:
            raise LookupError("no bot is registered; run `appliance init --dev`")
        app_id = next(iter(bots))
        return app_id, bots[app_id]

    # -- channel -> bot ---------------------------------------------------------------------------
    def activity_from(self, user: dict[str, Any], text: str | None, value: Any, **override: Any) -> dict[str, Any]:
        """The activity Teams would send for `user` writing `text` (or pressing a card button with `value`)."""
        app_id, _ = self.bot()
        cid = conversation_id(user["id"])
        tenant = self.ctx.state.tenant_id
        activity: dict[str, Any] = {
            "type": "message", "id": f"1{uuid.uuid4().int % 10**15:015d}",
            "timestamp": datetime.now(UTC).isoformat(), "serviceUrl": self.service_url, "channelId": "msteams",
            "from": {"id": "29:1" + user["id"].replace("-", ""), "name": user["displayName"],
                     "aadObjectId": user["id"]},
            "conversation": {"conversationType": "personal", "tenantId": tenant, "id": cid},
            "recipient": {"id": f"28:{app_id}", "name": "Aid"},
            "textFormat": "plain", "locale": "en-US",
            "channelData": {"tenant": {"id": tenant}},
        }
        if text is not None:
            activity["text"] = text
        if value is not None:
            activity["value"] = value
        activity.update(override)
        with self._lock:
            self._events.setdefault(cid, [])
        return activity

    async def post_to_bot(self, activity: dict[str, Any], token: str | None) -> int:
        """POST an activity to the bot's endpoint with `Authorization: Bearer token`; the HTTP status."""
        _, bot = self.bot()
        tls = ssl.create_default_context(cafile=str(self.ctx.ca_cert)) if self.ctx.ca_cert else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session, session.post(
            bot["endpoint"], json=activity, headers=headers, ssl=tls if tls else False,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as response:
            await response.read()
            return response.status

    async def send_as(self, upn: str, text: str | None, value: Any) -> tuple[int, str, str]:
        """A dev-tenant user writes to the bot; returns (bot endpoint's status, conversation id, activity id)."""
        user = self.ctx.state.user(upn)
        if user is None:
            raise LookupError(f"no user {upn} in the dev tenant")
        activity = self.activity_from(user, text, value)
        app_id, _ = self.bot()
        status = await self.post_to_bot(activity, self._make_token(self.ctx, app_id, self.service_url))
        return status, activity["conversation"]["id"], activity["id"]

    # -- bot -> channel ---------------------------------------------------------------------------
    def knows(self, cid: str) -> bool:
        """True for a conversation a user has written in."""
        with self._lock:
            return cid in self._events

    def record_from_bot(self, cid: str, activity: dict[str, Any], reply_to: str | None) -> str:
        """Keep a message (or typing) the bot sent; returns its new activity id."""
        activity_id = f"1{uuid.uuid4().int % 10**15:015d}"
        with self._lock:
            events = self._events.setdefault(cid, [])
            events.append({"seq": len(events) + 1, "event": str(activity.get("type", "message")), "id": activity_id,
                           "replyToId": reply_to, "activity": activity, "at": time.time()})
        return activity_id

    def update_from_bot(self, cid: str, activity_id: str, activity: dict[str, Any]) -> bool:
        """Replace a message the bot sent earlier; False if there is none with that id."""
        with self._lock:
            events = self._events.get(cid, [])
            original = next((e for e in events if e["id"] == activity_id and e["event"] == "message"), None)
            if original is None:
                return False
            original["activity"] = activity
            events.append({"seq": len(events) + 1, "event": "update", "id": activity_id, "replyToId": None,
                           "activity": activity, "at": time.time()})
        return True

    def transcript(self, cid: str, after: int = 0) -> list[dict[str, Any]]:
        """The bot's events in this conversation after sequence number `after`."""
        with self._lock:
            return [dict(e) for e in self._events.get(cid, []) if e["seq"] > after]
