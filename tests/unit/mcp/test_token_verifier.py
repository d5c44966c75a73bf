"""The MCP endpoint's bridge from the shared Entra validator to the SDK: 401 for an invalid token, 403
(insufficient_scope) for a valid one without the scope or app role, the person's oid as the subject."""

from __future__ import annotations

from typing import Any

from appliance.identity import EntraPrincipal, TokenRejected
from appliance.mcp import EntraTokenVerifier

SCOPE = "api://aidizen-mcp/Aid.Request"


def _validator(outcome: Any) -> Any:
    async def validate(token: str) -> EntraPrincipal:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return validate


async def test_a_permitted_token_names_the_person_and_the_client_app() -> None:
    principal = EntraPrincipal(object_id="doug-oid", tenant_id="t", app_id="agent-app", kind="user",
                               roles=frozenset(), scopes=frozenset({"Aid.Request"}), claims={"exp": 2_000_000_000})
    token = await EntraTokenVerifier(_validator(principal), SCOPE).verify_token("t0ken")
    assert token is not None and token.subject == "doug-oid" and token.client_id == "agent-app"
    assert token.scopes == [SCOPE] and token.expires_at == 2_000_000_000


async def test_an_invalid_token_is_none_and_an_unpermitted_one_has_no_scope() -> None:
    invalid = await EntraTokenVerifier(_validator(TokenRejected(401, "expired", "x")), SCOPE).verify_token("t")
    assert invalid is None
    unpermitted = await EntraTokenVerifier(_validator(TokenRejected(403, "missing_role", "x")), SCOPE).verify_token("t")
    assert unpermitted is not None and unpermitted.scopes == [] and unpermitted.subject is None
