"""Posting to a running appliance's /api/messages as the channel would, or as someone holding a captured
channel token would: any activity, any claims, over real HTTPS, validated by botbuilder in the process."""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.botframework import channel_token
from appliance_dev.devtenant.teams_client import DevTeamsClient, card_text

CODE_LINE = re.compile(r"\byes ([0-9]{6})\b")


def post(stack: DevStack, body: bytes | dict[str, Any], token: str | None, **headers: str) -> httpx.Response:
    """POST `body` to the appliance with `Authorization: Bearer token` (none if None)."""
    assert stack.tenant is not None
    all_headers = {"Content-Type": "application/json", **headers}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    tls = ssl.create_default_context(cafile=str(stack.tenant.keys.ca_cert))
    return httpx.post(stack.bot_url, content=content, headers=all_headers, verify=tls, timeout=30)


def activity(stack: DevStack, upn: str, text: str | None = "Who is sarah.lin@contoso.com?", value: Any = None,
             **override: Any) -> dict[str, Any]:
    """The activity Teams would send for `upn` (with a fresh activity id), with fields overridden."""
    assert stack.tenant is not None
    user = stack.tenant.context.state.user(upn)
    assert user is not None, upn
    return stack.tenant.teams.activity_from(user, text, value, **override)


def token(stack: DevStack, **claims: Any) -> str:
    """A channel token for the Aid's bot as Teams signs it; a claim set to None is left out."""
    assert stack.tenant is not None
    return channel_token(stack.tenant.context, "aidizen-bot", **claims)


def typed_code(card: dict[str, Any]) -> str:
    """The code a waiting card shows for a typed confirmation ("yes 482913")."""
    for line in card_text(card):
        found = CODE_LINE.search(line)
        if found:
            return found[1]
    raise AssertionError(f"the card shows no confirmation code: {card_text(card)}")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll `condition` until it holds (TimeoutError naming `what` otherwise)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


SENTINEL_ANSWER = "I only read text messages"


def sentinel(teams: DevTeamsClient, upn: str) -> None:
    """Send an empty message as `upn` and wait for its own answer ("I only read text messages..."): every
    turn of that conversation posted before it has ended by then (one conversation's turns run in order)."""
    conversation = teams.conversation_of(upn)
    before = teams.last_seq(conversation)
    sent = teams.send(upn, " ")
    assert sent.status == 202, sent
    teams.wait_for(conversation, before, lambda events: any(
        str(e["activity"].get("text", "")).startswith(SENTINEL_ANSWER) for e in events))
