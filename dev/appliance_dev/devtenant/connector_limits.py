"""Teams' per-bot, per-conversation rate limits on sending (MicrosoftDocs/msteams-docs,
msteams-platform/bots/how-to/rate-limit.md, "Per bot per thread limit"): at most 7 operations in 1 s,
8 in 2 s, 60 in 30 s and 1,800 in an hour to one conversation; over a limit the answer is
`429 Throttled` (msteams-platform/bots/build-conversational-capability.md, status codes)."""

from __future__ import annotations

import threading
import time
from collections import deque

SEND_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))


class ThreadRateLimit:
    """Sliding windows per (bot, conversation); `allow` records an operation if every window has room."""

    def __init__(self, limits: tuple[tuple[float, int], ...] = SEND_LIMITS) -> None:
        self.limits = limits
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.throttled = 0

    def allow(self, bot: str, conversation: str, now: float | None = None) -> bool:
        """True (and counted) if one more operation fits every window; False (429) otherwise."""
        moment = time.monotonic() if now is None else now
        longest = max(window for window, _ in self.limits)
        with self._lock:
            sent = self._sent.setdefault((bot, conversation), deque())
            while sent and moment - sent[0] > longest:
                sent.popleft()
            for window, most in self.limits:
                if sum(1 for t in sent if moment - t < window) >= most:
                    self.throttled += 1
                    return False
            sent.append(moment)
            return True

    def reset(self) -> None:
        """Forget every conversation's sends (tests start from a quiet connector)."""
        with self._lock:
            self._sent.clear()
            self.throttled = 0
