"""Outgoing Teams messages: paced under the per-conversation limits, retried as Teams documents (429, 412, 502,
504; 3 times), final otherwise; signing keys refetched on an unknown key id, rate-limited."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from appliance.teams.metadata import GuardedOpenIdMetadata
from appliance.teams.pacing import MAX_RETRIES, ConversationPacer, DeliveryFailed, deliver


class _Response:
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        self.status_code = status
        self.headers = {"Retry-After": retry_after} if retry_after else {}


class ConnectorError(Exception):
    """Shaped like msrest's HttpOperationException: `.response.status_code`, `.error.error.code`."""

    def __init__(self, status: int, code: str, retry_after: str | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.response = _Response(status, retry_after)
        self.error = type("E", (), {"error": type("C", (), {"code": code})()})()


def _sending(failures: list[ConnectorError]) -> tuple[Any, list[int]]:
    calls: list[int] = []

    async def send() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "sent"

    return send, calls


async def _no_sleep(seconds: float) -> None:
    _waits.append(seconds)


_waits: list[float] = []


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_what_teams_says_to_retry_is_retried(status: int) -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/how-to/rate-limit.md (429 with exponential backoff;
    412, 502 and 504 must also be retried; the example retries 3 times, 2 to 20 s apart)."""
    _waits.clear()
    send, calls = _sending([ConnectorError(status, "x"), ConnectorError(status, "x")])
    assert await deliver("c", send, pacer=ConversationPacer(), sleep=_no_sleep) == "sent"
    assert len(calls) == 3 and all(2 * 0.8 <= w <= 20 for w in _waits)


async def test_retry_after_is_honoured_and_retries_are_bounded() -> None:
    _waits.clear()
    send, calls = _sending([ConnectorError(429, "Throttled", "7")] * (MAX_RETRIES + 1))
    with pytest.raises(DeliveryFailed) as failed:
        await deliver("c", send, pacer=ConversationPacer(), sleep=_no_sleep)
    assert failed.value.status == 429 and len(calls) == MAX_RETRIES + 1 and _waits == [7.0] * MAX_RETRIES


@pytest.mark.parametrize(("status", "code"), [(403, "ConversationBlockedByUser"), (403, "BotNotInConversationRoster"),
                                              (413, "MessageSizeTooBig")])
async def test_final_answers_are_not_retried(status: int, code: str) -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/build-conversational-capability.md (status codes:
    403 blocked / not in roster and 413 are not retryable)."""
    send, calls = _sending([ConnectorError(status, code)])
    with pytest.raises(DeliveryFailed, match=code):
        await deliver("c", send, pacer=ConversationPacer(), sleep=_no_sleep)
    assert len(calls) == 1


def test_the_pacer_keeps_each_conversation_under_every_window() -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/how-to/rate-limit.md (7 per 1 s, 8 per 2 s, 60 per
    30 s, 1,800 per hour, per bot per conversation)."""
    now = [1000.0]
    pacer = ConversationPacer(clock=lambda: now[0])
    for _ in range(7):
        assert pacer.delay("a") == 0
        pacer._sent["a"].append(now[0])
    assert 0.9 < pacer.delay("a") <= 1.0 and pacer.delay("b") == 0
    now[0] += 1.0
    pacer._sent["a"].append(now[0])  # the 8th, one second later
    assert 0.9 < pacer.delay("a") <= 1.0  # 8 per 2 s


async def test_sends_to_one_conversation_are_spaced_in_order() -> None:
    pacer = ConversationPacer(limits=((0.2, 2),))
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(pacer.turn("c") for _ in range(5)))
    assert asyncio.get_running_loop().time() - started >= 0.35  # 5 sends at 2 per 0.2 s


class _Keys:
    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = [{"kid": "old", "kty": "RSA", "n": "sXch", "e": "AQAB"}]
        self.fetches = 0

    async def fetch(self, url: str) -> Any:
        if url.endswith("openidconfiguration"):
            return {"jwks_uri": "https://login.botframework.com/v1/.well-known/keys"}
        self.fetches += 1
        return {"keys": list(self.keys)}


async def test_an_unknown_key_id_refetches_the_keys_at_once_but_rate_limited() -> None:
    """Source: MicrosoftDocs/bot-docs articles/rest-api/bot-framework-rest-connector-authentication.md (new keys
    may be added at any time). botbuilder's own cache raised IndexError on a new kid until its daily refresh."""
    published = _Keys()
    metadata = GuardedOpenIdMetadata("https://login.botframework.com/v1/.well-known/openidconfiguration",
                                     published.fetch)
    assert await metadata.get("old") is not None and published.fetches == 1
    published.keys.append({"kid": "new", "kty": "RSA", "n": "sXch", "e": "AQAB"})
    metadata.last_updated = datetime.now() - timedelta(seconds=30)
    assert await metadata.get("new") is not None and published.fetches == 2  # rolled over: fetched at once
    assert await metadata.get("forged-1") is None and await metadata.get("forged-2") is None
    assert published.fetches == 2  # a stream of unknown ids within seconds costs no more fetches
