"""Staying under Teams' per-conversation limits, and retrying what Teams says to retry.

- Limits (MicrosoftDocs/msteams-docs, msteams-platform/bots/how-to/rate-limit.md, "Per bot per thread
  limit"): 7 sends per 1 s, 8 per 2 s, 60 per 30 s and 1,800 per hour to one conversation. `ConversationPacer`
  queues each conversation's sends so they never exceed them.
- Retries (same page): 429 is answered with exponential backoff and random jitter, and 412, 502 and 504
  "must also be retried"; its example retries 3 times, waiting 2 s to 20 s. Retry-After, when Teams sends it,
  is honoured. Anything else (403 ConversationBlockedByUser / BotNotInConversationRoster, 413
  MessageSizeTooBig, 404) is final: `DeliveryFailed` (msteams-platform/bots/build-conversational-capability.md,
  status codes).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
SEND_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
RETRIED_STATUSES = frozenset({429, 412, 502, 504})
MAX_RETRIES = 3
MIN_WAIT, MAX_WAIT = 2.0, 20.0


class DeliveryFailed(Exception):
    """Teams would not take the message (a final status, or retries used up)."""

    def __init__(self, status: int | None, code: str) -> None:
        super().__init__(f"Teams answered {status or 'nothing'} {code}".rstrip())
        self.status, self.code = status, code


class ConversationPacer:
    """Per-conversation sliding windows; `turn(conversation)` waits until one more send fits all of them."""

    def __init__(self, limits: tuple[tuple[float, int], ...] = SEND_LIMITS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self._clock = limits, clock
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def delay(self, conversation: str) -> float:
        """Seconds until one more send to `conversation` fits every window (0 if it fits now)."""
        now = self._clock()
        sent = self._sent.setdefault(conversation, deque())
        longest = max(window for window, _ in self.limits)
        while sent and now - sent[0] >= longest:
            sent.popleft()
        wait = 0.0
        for window, most in self.limits:
            inside = [t for t in sent if now - t < window]
            if len(inside) >= most:
                wait = max(wait, inside[-most] + window - now)
        return wait

    async def turn(self, conversation: str) -> None:
        """Wait for this conversation's turn to send (in order), then count the send."""
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            while (wait := self.delay(conversation)) > 0:
                await asyncio.sleep(wait + 0.01)
            self._sent[conversation].append(self._clock())
        if len(self._locks) > 10_000:
            self._locks.clear()


SHARED_PACER = ConversationPacer()


def _status_and_code(exc: BaseException) -> tuple[int | None, str, str | None]:
    response: Any = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    error: Any = getattr(getattr(exc, "error", None), "error", None)
    code = str(getattr(error, "code", "") or "")
    headers = getattr(response, "headers", None) or {}
    return (int(status) if status is not None else None), code, headers.get("Retry-After")


def _wait(attempt: int, retry_after: str | None) -> float:
    try:
        if retry_after is not None:
            return min(max(float(retry_after), 0.0), MAX_WAIT)
    except ValueError:
        pass
    return min(MAX_WAIT, MIN_WAIT * (2**attempt) * random.uniform(0.8, 1.2))


async def deliver(conversation: str, send: Callable[[], Awaitable[T]], *, pacer: ConversationPacer = SHARED_PACER,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run `send` in the conversation's turn; retry 429/412/502/504 (3 times); else raise DeliveryFailed."""
    attempt = 0
    while True:
        await pacer.turn(conversation)
        try:
            return await send()
        except Exception as exc:
            status, code, retry_after = _status_and_code(exc)
            if status is None and not code:
                raise
            if status not in RETRIED_STATUSES or attempt >= MAX_RETRIES:
                raise DeliveryFailed(status, code) from exc
            await sleep(_wait(attempt, retry_after))
            attempt += 1
