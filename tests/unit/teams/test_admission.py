"""What an authenticated sender may make the appliance run, store or queue (issue 15, items 2 and 6),
with a fake ledger and a fake clock: rate limits, whose conversation, the cap, redelivery."""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.teams.activities import Inspection
from appliance.teams.admission import (
    NEW_CONVERSATION_CHECKS_PER_MINUTE,
    SLOW_DOWN,
    TOO_MANY_CONVERSATIONS,
    Admission,
    SenderLimits,
    TokenBuckets,
)
from appliance.types import Turn

DOUG = "5f0c7c3e-2d1a-4b7e-9a53-0d6e1f2a3b4c"
EVE = "9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeEdgeLedger:
    owners: dict[str, str] = field(default_factory=dict)
    claimed: set[tuple[str, str]] = field(default_factory=set)

    async def owner_of(self, conversation_ref: str) -> str | None:
        return self.owners.get(conversation_ref)

    async def conversations_of(self, person_id: str) -> int:
        return sum(1 for owner in self.owners.values() if owner == person_id)

    async def claim_activity(self, conversation_ref: str, activity_id: str) -> bool:
        first = (conversation_ref, activity_id) not in self.claimed
        self.claimed.add((conversation_ref, activity_id))
        return first


def _turn(sender: str = DOUG, conversation: str = "teams://msg/doug", activity: str = "1") -> Inspection:
    return Inspection(202, "turn", turn=Turn(conversation, activity, sender, "Doug", "hi"))


def _admission(ledger: FakeEdgeLedger, clock: FakeClock, tenant: set[str] | None = None,
               **limits: int) -> Admission:
    people = {DOUG, EVE} if tenant is None else tenant

    async def is_tenant_user(object_id: str) -> bool:
        return object_id in people

    return Admission(ledger, is_tenant_user, SenderLimits(**limits), clock)


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(per_minute=12, burst=3, clock=clock)
    assert [buckets.take("d") for _ in range(4)] == [True, True, True, False]
    clock.now += 5  # one token per 5 s
    assert buckets.take("d") and not buckets.take("d")
    assert buckets.take("e")  # each key has its own bucket


def test_buckets_forget_the_least_recently_used_keys_past_their_bound() -> None:
    buckets = TokenBuckets(per_minute=1, burst=1, clock=FakeClock(), max_keys=100)
    for n in range(1000):
        buckets.take(f"sender-{n}")
    assert len(buckets) == 100


async def test_a_sender_past_the_rate_is_told_once_then_ignored_and_nothing_is_stored() -> None:
    ledger, clock = FakeEdgeLedger({"teams://msg/doug": DOUG}), FakeClock()
    admission = _admission(ledger, clock, turns_per_minute=4)  # a burst of 2, then one turn per 15 s
    results = [await admission.admit(_turn(activity=str(n))) for n in range(5)]
    assert [r.reason for r in results] == ["turn", "turn", "rate_limited", "rate_limited", "rate_limited"]
    assert results[2].reply == SLOW_DOWN and results[3].reply is None and results[2].status == 200
    assert len(ledger.claimed) == 2  # refused turns leave no row
    clock.now += 61
    assert (await admission.admit(_turn(activity="6"))).reason == "turn"


async def test_a_redelivered_activity_is_acknowledged_and_not_run() -> None:
    admission = _admission(FakeEdgeLedger({"teams://msg/doug": DOUG}), FakeClock())
    assert (await admission.admit(_turn(activity="42"))).turn is not None
    again = await admission.admit(_turn(activity="42"))
    assert (again.status, again.reason, again.turn, again.reply) == (200, "redelivered", None, None)


async def test_someone_else_posting_into_a_known_conversation_gets_403() -> None:
    admission = _admission(FakeEdgeLedger({"teams://msg/doug": DOUG}), FakeClock())
    refused = await admission.admit(_turn(sender=EVE))
    assert (refused.status, refused.reason, refused.turn) == (403, "not_their_conversation", None)


async def test_a_new_conversation_needs_a_tenant_user_and_room_under_the_cap() -> None:
    ledger = FakeEdgeLedger({f"teams://msg/d{n}": DOUG for n in range(3)})
    admission = _admission(ledger, FakeClock(), conversations_per_sender=3)
    capped = await admission.admit(_turn(conversation="teams://msg/d-new"))
    assert (capped.status, capped.reason, capped.reply, capped.turn) == (200, "too_many_conversations",
                                                                          TOO_MANY_CONVERSATIONS, None)
    stranger = "00000000-0000-4000-8000-000000000001"
    unknown = await admission.admit(_turn(sender=stranger, conversation="teams://msg/s"))
    assert (unknown.status, unknown.reason) == (403, "not_a_tenant_user")
    assert (await admission.admit(_turn(sender=EVE, conversation="teams://msg/eve"))).reason == "turn"
    assert (await admission.admit(_turn(conversation="teams://msg/d0", activity="9"))).reason == "turn"  # known


async def test_new_conversation_checks_are_limited_appliance_wide() -> None:
    clock = FakeClock()
    admission = _admission(FakeEdgeLedger(), clock, tenant=set())
    senders = [f"00000000-0000-4000-8000-{n:012d}" for n in range(NEW_CONVERSATION_CHECKS_PER_MINUTE + 5)]
    reasons = [(await admission.admit(_turn(sender=s, conversation=f"teams://msg/{s}"))).reason for s in senders]
    assert reasons.count("not_a_tenant_user") == NEW_CONVERSATION_CHECKS_PER_MINUTE
    assert reasons[-5:] == ["new_conversations_limited"] * 5


async def test_refusals_and_non_turns_pass_through_untouched() -> None:
    admission = _admission(FakeEdgeLedger(), FakeClock())
    refusal = Inspection(200, "not_personal", reply="polite")
    assert await admission.admit(refusal) is refusal
