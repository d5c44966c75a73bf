"""The gate's rules combine fail-closed, and every kind of decision ends with the same shared rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance import gate
from appliance.gate import rules
from appliance.types import ActionState, PendingAction, Person

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
EVE = Person("eve-oid", "eve@contoso.com", "Eve", True)


def _action(**changes: object) -> PendingAction:
    fields: dict[str, object] = dict(
        id="a1", conversation_ref="teams://msg/c1", requester_id="doug-oid", tool="m365_user_disable",
        arguments_json='{"user":"ben@contoso.com"}', summary="Disable ben", action_hash="a" * 64,
        state="AWAITING", client_request_id=None, confirmed_by=None, confirmed_at=None,
        created_at=NOW.isoformat(), expires_at=(NOW + timedelta(minutes=10)).isoformat(),
        updated_at=NOW.isoformat(), ended_at=None, requester_confirmed_at=NOW.isoformat(),
    )
    fields.update(changes)
    return PendingAction(**fields)  # type: ignore[arg-type]


def _attempt(kind: rules.Kind, action: PendingAction | None = None) -> rules.Attempt:
    actor = "eve-oid" if kind == "approve" else "doug-oid"
    where = "teams://msg/eve" if kind == "approve" else "teams://msg/c1"  # the card's chat, the approver's
    return rules.Attempt(kind, action or _action(), actor, "a" * 64, NOW, EVE, ("eve@contoso.com",),
                         conversation_ref=where, approver_chat="teams://msg/eve")


def test_every_kind_ends_with_the_shared_rules_in_order() -> None:
    for kind, kind_rules in rules.RULES.items():
        assert [rule for rule in kind_rules if rule in rules.SHARED] == list(rules.SHARED), kind
        assert rules.judge(_attempt(kind)).allowed, kind


def test_a_rule_that_raises_refuses() -> None:
    def broken(attempt: rules.Attempt) -> gate.Verdict | None:
        raise KeyError("bug")

    verdict = rules.judge(_attempt("confirm"), (*rules.RULES["confirm"], broken))
    assert not verdict.allowed and verdict.reason == "rule_failed" and "nothing ran" in verdict.message


def test_a_rule_must_refuse_or_abstain_an_allowed_verdict_from_a_rule_still_refuses() -> None:
    verdict = rules.judge(_attempt("cancel"), (lambda attempt: gate.Verdict(True, "ok"),))
    assert not verdict.allowed and verdict.reason == "rule_failed"


def test_the_first_refusal_wins_in_rule_order() -> None:
    late_and_wrong = _action(state="DONE", expires_at=(NOW - timedelta(minutes=1)).isoformat())
    assert rules.judge(_attempt("confirm", late_and_wrong)).reason == "already_decided"
    assert rules.judge(_attempt("approve", _action(requester_confirmed_at=None))).reason == "not_confirmed_yet"


def test_an_unknown_action_is_refused_for_every_kind() -> None:
    for kind in rules.RULES:
        attempt = rules.Attempt(kind, None, "doug-oid", None, NOW)
        assert rules.judge(attempt).reason == "unknown_action", kind


def test_states_are_typed_whatever_text_the_store_read() -> None:
    action = _action(state="EXPIRED")
    assert action.state is ActionState.EXPIRED and action.state == "EXPIRED"
