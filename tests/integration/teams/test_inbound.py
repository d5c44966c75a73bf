"""/api/messages over real HTTPS: every forged or malformed request is refused and no turn runs; a
good one is acknowledged at once. botbuilder's own JWT validation runs against the dev tenant's keys."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from appliance.orchestrator.handler import UNREADABLE
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.botframework import channel_token
from appliance_dev.devtenant.teams_client import DevTeamsClient
from tests.integration.teams.conftest import texts
from tests.integration.teams.edge_http import activity, post, token

USER = "mike.chan@contoso.com"
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


def _post(stack: DevStack, body: bytes | dict[str, Any], token: str | None, **headers: str) -> httpx.Response:
    return post(stack, body, token, **headers)


def _activity(stack: DevStack, text: str = "Who is sarah.lin@contoso.com?", sender: str = USER,
              **override: Any) -> dict[str, Any]:
    return activity(stack, sender, text, **override)


def _token(stack: DevStack, **claims: Any) -> str:
    return token(stack, **claims)


def _no_turn_ran_since(teams: DevTeamsClient, sender: str, conversation: str, before: int) -> None:
    """Prove that nothing the refused request could have started ever spoke: press a button the Aid does not
    understand in the same chat and wait for its answer. Turns of one chat run one at a time, in arrival
    order (orchestrator/handler.py), so anything of an earlier turn comes before that answer; the answer
    must be the only message after `before`. An event that ends the turn, not a fixed sleep. (Each refused
    case has its own sender: the fence is a real turn, and one sender's turns are rate limited.)"""
    assert teams.send(sender, value={"fence": "no such card"}).status == 202
    events = teams.wait_for_reply(conversation, before, timeout=30)
    assert [e for e in events if e["event"] == "message"] and texts(events) == [UNREADABLE], events


def _forged(stack: DevStack) -> str:
    """Right claims and key id, signed with a key the dev tenant never published."""
    assert stack.tenant is not None
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": "aidizen-bot", "nbf": now, "exp": now + 600,
              "serviceurl": "https://smba.trafficmanager.net/emea/"}
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": stack.tenant.context.kid})


def _unsigned(stack: DevStack) -> str:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": "aidizen-bot", "nbf": now, "exp": now + 600,
              "serviceurl": "https://smba.trafficmanager.net/emea/"}
    return jwt.encode(claims, None, algorithm="none")


REFUSED: dict[str, tuple[Callable[[DevStack], str | None], int]] = {
    "no token": (lambda s: None, 401),
    "unsigned (alg none)": (_unsigned, 401),
    "forged signature": (_forged, 401),
    "expired": (lambda s: _token(s, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200), 401),
    "wrong audience": (lambda s: channel_token(s.tenant.context, "someone-elses-bot"), 401),  # type: ignore[union-attr]
    "wrong issuer (Emulator)": (lambda s: _token(s, iss=EMULATOR_ISSUER), 401),
    "wrong service url": (lambda s: _token(s, serviceurl="https://evil.example.com/"), 401),
}


# One sender per refused case (ordinary users of the dev tenant's seed), so each fence turn has its own budget.
SENDERS = ("priya.n@contoso.com", "hana.berg@contoso.com", "ivo.petrov@contoso.com", "jo.kim@contoso.com",
           "tom.becker@contoso.com", "tom.fischer@contoso.com", "sarah.lin@contoso.com")


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_token_gets_401_and_no_turn_runs(stack: DevStack, teams: DevTeamsClient, case: str) -> None:
    make, status = REFUSED[case]
    sender = SENDERS[sorted(REFUSED).index(case)]
    conversation = teams.conversation_of(sender)
    before = teams.last_seq(conversation)
    response = _post(stack, _activity(stack, sender=sender), make(stack))
    assert response.status_code == status, response.text
    _no_turn_ran_since(teams, sender, conversation, before)


def test_another_tenant_gets_403_and_no_turn_runs(stack: DevStack, teams: DevTeamsClient) -> None:
    conversation = teams.conversation_of(USER)
    before = teams.last_seq(conversation)
    activity = _activity(stack, channelData={"tenant": {"id": "00000000-0000-0000-0000-000000000bad"}},
                         conversation={"conversationType": "personal", "id": conversation,
                                       "tenantId": "00000000-0000-0000-0000-000000000bad"})
    assert _post(stack, activity, _token(stack)).status_code == 403
    _no_turn_ran_since(teams, USER, conversation, before)


def test_a_sender_without_an_entra_object_id_gets_403(stack: DevStack) -> None:
    activity = _activity(stack)
    activity["from"] = {"id": "29:anonymous", "name": "Anonymous"}
    assert _post(stack, activity, _token(stack)).status_code == 403


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"text": "no type"}', b'"just a string"', b""])
def test_malformed_bodies_get_400(stack: DevStack, body: bytes) -> None:
    assert _post(stack, body, _token(stack)).status_code == 400


def test_an_oversized_activity_gets_413(stack: DevStack) -> None:
    response = _post(stack, _activity(stack, text="x" * 300_000), _token(stack))
    assert response.status_code == 413 and "at most" in response.text


def test_a_wrong_content_type_gets_400(stack: DevStack) -> None:
    response = _post(stack, json.dumps(_activity(stack)).encode(), _token(stack), **{"Content-Type": "text/plain"})
    assert response.status_code == 400


def test_a_group_chat_gets_a_polite_refusal_and_no_tool_runs(stack: DevStack, teams: DevTeamsClient) -> None:
    conversation = teams.conversation_of(USER)
    before = teams.last_seq(conversation)
    activity = _activity(stack, text="Disable the account of leaver@contoso.com",
                         conversation={"conversationType": "groupChat", "id": conversation,
                                       "tenantId": stack.tenant.context.state.tenant_id})  # type: ignore[union-attr]
    assert _post(stack, activity, _token(stack)).status_code == 200
    events = teams.wait_for_reply(conversation, before, timeout=30)
    assert any("one-to-one chats" in text for text in texts(events))
    assert stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True  # type: ignore[index,union-attr]


def test_after_all_that_a_good_message_is_answered(stack: DevStack, teams: DevTeamsClient) -> None:
    sent, events = teams.ask("doug@contoso.com", "Who is sarah.lin@contoso.com?")
    assert sent.status == 202
    assert any("Sarah Lin" in text for text in texts(events)), texts(events)
    assert events[0]["event"] == "typing"  # the typing indicator comes before the answer


def test_health_and_readiness(stack: DevStack) -> None:
    assert stack.tenant is not None
    base = stack.bot_url.rsplit("/api/", 1)[0]
    with httpx.Client(verify=ssl.create_default_context(cafile=str(stack.tenant.keys.ca_cert))) as http:
        assert http.get(f"{base}/healthz").json() == {"status": "up"}
        ready = http.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"model": True, "store": True, "token": True}
