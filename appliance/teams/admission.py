"""What an authenticated sender may make the appliance run, store or queue, decided before a turn starts.

An activity that `activities.inspect` made a turn passes four checks, in this order, before anything
about it is stored:

1. **Turns per sender** (in memory): a token bucket per Entra object id, `[teams] turns_per_minute`
   (half a minute's worth may come at once).
   Past it the person is told, politely and at most once a minute, to slow down; nothing runs.
2. **Whose conversation** (the store): a conversation the Aid already knows belongs to the person it
   was first stored for; anybody else posting into it gets 403. A conversation it does not know yet is
   opened only for a real, enabled user of the tenant (`gate.judge_sender`, one directory look-up,
   itself limited appliance-wide to `NEW_CONVERSATION_CHECKS_PER_MINUTE`, else 429), and only while
   that person has fewer than `[teams] conversations_per_sender` conversations (a polite refusal).
3. **At most once** (the store): the activity id is claimed; a redelivery is acknowledged and not run.
4. The bot then bounds what waits: `[teams] max_concurrent_turns` in all, `waiting_turns_per_sender`
   per person (`bot.py`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from appliance import ops_log
from appliance.teams.activities import Inspection

SLOW_DOWN = ("You're sending messages faster than I can answer them, so I skipped the last one. "
             "Please wait a minute, then send it again.")
TOO_MANY_CONVERSATIONS = ("You already have as many chats with me as I keep for one person. "
                          "Please write to me in your existing one-to-one chat.")
NEW_CONVERSATION_CHECKS_PER_MINUTE = 60
NOTICE_SECONDS = 60.0
MAX_TRACKED_SENDERS = 10_000

IsTenantUser = Callable[[str], Awaitable[bool]]
"""object id -> True if an enabled user of this tenant has exactly that object id (wiring: the directory)."""


class EdgeLedger(Protocol):
    """What admission reads and writes in the encrypted store (wiring joins `store.edge_ledger`)."""

    async def owner_of(self, conversation_ref: str) -> str | None:
        """The object id of the person a stored conversation belongs to; None if it is not stored."""
        ...

    async def conversations_of(self, person_id: str) -> int:
        """How many conversations are stored for this person."""
        ...

    async def claim_activity(self, conversation_ref: str, activity_id: str) -> bool:
        """True the first time this activity is seen (across restarts); False for a redelivery."""
        ...


@dataclass(frozen=True)
class SenderLimits:
    """Per-sender bounds (from `[teams]`)."""

    turns_per_minute: int = 12
    conversations_per_sender: int = 3

    @property
    def burst(self) -> int:
        """How many turns may come at once before the rate applies: half a minute's worth."""
        return max(1, self.turns_per_minute // 2)


class TokenBuckets:
    """One token bucket per key, refilled at `per_minute`, holding at most `burst`; the least recently
    used buckets are forgotten past `max_keys` (memory stays bounded whatever ids arrive)."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_TRACKED_SENDERS) -> None:
        self.rate, self.burst, self.clock, self.max_keys = per_minute / 60.0, float(burst), clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> bool:
        """Take one token for `key`; False (and nothing taken) if its bucket is empty."""
        now = self.clock()
        tokens, stamp = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)


class Admission:
    """The checks above, for one appliance."""

    def __init__(self, ledger: EdgeLedger, is_tenant_user: IsTenantUser, limits: SenderLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ledger, self.is_tenant_user, self.limits = ledger, is_tenant_user, limits
        self.turns = TokenBuckets(limits.turns_per_minute, limits.burst, clock)
        self.notices = TokenBuckets(60.0 / NOTICE_SECONDS, 1, clock)
        self.new_conversations = TokenBuckets(NEW_CONVERSATION_CHECKS_PER_MINUTE, NEW_CONVERSATION_CHECKS_PER_MINUTE,
                                              clock, max_keys=1)

    async def admit(self, inspection: Inspection) -> Inspection:
        """The same inspection if its turn may run; otherwise what to answer instead (a polite reply, 403,
        429, or a silent acknowledgement of a redelivery)."""
        turn = inspection.turn
        if turn is None:
            return inspection
        sender, conversation = turn.requester_id, turn.conversation_ref
        if not self.turns.take(sender):
            ops_log.event("turn.rate_limited", requester=sender)
            return self._refusal("rate_limited", SLOW_DOWN if self.notices.take(sender) else None)
        owner = await self.ledger.owner_of(conversation)
        if owner is not None and owner.casefold() != sender.casefold():
            return Inspection(403, "not_their_conversation")
        if owner is None:
            refused = await self._open_conversation(sender)
            if refused is not None:
                return refused
        if not await self.ledger.claim_activity(conversation, turn.activity_id):
            return Inspection(200, "redelivered")
        return inspection

    async def _open_conversation(self, sender: str) -> Inspection | None:
        if not self.new_conversations.take("*"):
            return Inspection(429, "new_conversations_limited")
        if not await self.is_tenant_user(sender):
            return Inspection(403, "not_a_tenant_user")
        if await self.ledger.conversations_of(sender) >= self.limits.conversations_per_sender:
            ops_log.event("turn.too_many_conversations", requester=sender)
            return self._refusal("too_many_conversations", TOO_MANY_CONVERSATIONS)
        return None

    @staticmethod
    def _refusal(reason: str, reply: str | None) -> Inspection:
        return Inspection(200, reason, reply=reply)
