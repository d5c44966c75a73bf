"""Bot Connector fidelity: Teams' per-conversation rate limits and its documented error answers."""

from __future__ import annotations

import pytest

from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.botframework import SERVICE_URL, bot_token
from appliance_dev.devtenant.connector_limits import ThreadRateLimit
from tests.fidelity.conftest import entra

APP_ID = "bot-app-id"
STATUS_CODES = "MicrosoftDocs/msteams-docs msteams-platform/bots/build-conversational-capability.md"


def _conversation(tenant: DevTenant) -> tuple[str, str]:
    """Register the bot, let Sarah open a chat; returns (conversation id, bot token)."""
    tenant.register_bot(APP_ID, "secret", "https://127.0.0.1:9/api/messages")
    sarah = tenant.context.state.user("sarah.lin@contoso.com")
    assert sarah is not None
    cid = tenant.teams.activity_from(sarah, "hi", None)["conversation"]["id"]
    return cid, bot_token(tenant.context, APP_ID, "botframework.com")["access_token"]


def _post(tenant: DevTenant, cid: str, bearer: str, text: str = "hello") -> tuple[int, dict]:  # type: ignore[type-arg]
    region = SERVICE_URL.rstrip("/").rsplit("/", 1)[-1]
    with entra(tenant) as client:
        answer = client.post(f"/{region}/v3/conversations/{cid}/activities", json={"type": "message", "text": text},
                             headers={"Authorization": f"Bearer {bearer}"})
    return answer.status_code, answer.json()


def test_sends_over_the_per_conversation_limit_are_throttled() -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/how-to/rate-limit.md ("Per bot per thread limit":
    7 per 1 s, 8 per 2 s, 60 per 30 s, 1,800 per hour)."""
    limits = ThreadRateLimit()
    assert all(limits.allow("bot", "c1", now=100.0 + i * 0.01) for i in range(7))
    assert not limits.allow("bot", "c1", now=100.5)  # the 8th inside one second
    assert limits.allow("bot", "c2", now=100.5)  # another conversation has its own limit
    assert limits.allow("bot", "c1", now=101.2)  # 8 in 2 s
    assert not limits.allow("bot", "c1", now=101.5)
    assert all(limits.allow("bot", "c3", now=200.0 + i * 0.45) for i in range(60))  # 60 in 26.55 s
    assert not limits.allow("bot", "c3", now=200.0 + 60 * 0.45)  # the 61st inside 30 s
    assert limits.allow("bot", "c3", now=230.1)


def test_the_connector_answers_429_throttled_over_the_limit(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/how-to/rate-limit.md (over a limit: HTTP 429)."""
    cid, bearer = _conversation(tenant)
    answers = [_post(tenant, cid, bearer)[0] for _ in range(9)]
    assert answers[:7] == [200] * 7 and 429 in answers[7:]


@pytest.mark.parametrize(("status", "code"), [(403, "ConversationBlockedByUser"), (403, "BotNotInConversationRoster"),
                                              (412, "PreconditionFailed"), (502, "BadGateway"), (504, "GatewayTimeout"),
                                              (429, "Throttled")])
def test_documented_connector_errors_can_be_injected_with_their_codes(
    tenant: DevTenant, status: int, code: str
) -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/build-conversational-capability.md ("Status codes":
    403 ConversationBlockedByUser / BotNotInConversationRoster, 412 PreconditionFailed, 429 Throttled)."""
    cid, bearer = _conversation(tenant)
    rule = {"path": r"/v3/conversations/", "status": status, "code": code, "times": 1}
    tenant.context.faults.set([{**rule, "retry_after": 1} if status == 429 else rule])
    answer, body = _post(tenant, cid, bearer)
    assert answer == status and body["error"]["code"] == code
    assert _post(tenant, cid, bearer)[0] == 200  # the fault was once; the conversation is fine again


def test_an_oversized_message_is_a_413(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/msteams-docs msteams-platform/bots/build-conversational-capability.md (413
    MessageSizeTooBig: "Message size too large")."""
    cid, bearer = _conversation(tenant)
    status, body = _post(tenant, cid, bearer, "x" * 300_000)
    assert status == 413 and body["error"]["code"] == "MessageSizeTooBig"
