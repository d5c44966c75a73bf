"""A password reset through the whole chat flow (real appliance process, real model, botbuilder, msal,
msgraph-sdk, SQLCipher, dev tenant over HTTPS): the temporary password Graph received appears nowhere
the appliance writes: not in a reply, not on a card, not in the audit record, not in the ops log or the
process output, not anywhere in the decrypted store, not in any file under $APPLIANCE_HOME."""

from __future__ import annotations

import json
from typing import Any

from appliance.config import load_settings
from appliance.store import TenantStore, audit_records
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_text
from tests.integration.teams.conftest import cards, texts
from tests.store_scan import every_value

REQUESTER, TARGET = "doug@contoso.com", "mike.chan@contoso.com"


def _password(stack: DevStack) -> dict[str, Any]:
    assert stack.tenant is not None
    user = stack.tenant.context.state.user(TARGET)
    assert user is not None
    profile: dict[str, Any] = user.get("passwordProfile") or {}
    return profile


def test_a_reset_password_is_nowhere_in_chat_audit_logs_or_store(stack: DevStack, teams: DevTeamsClient) -> None:
    assert _password(stack) == {}  # the dev tenant holds no password profile before the reset
    _, proposed = teams.ask(REQUESTER, f"Reset the password of {TARGET}")
    card = cards(proposed)[-1]
    assert any(TARGET in line for line in card_text(card)) and button_data(card, "Confirm"), texts(proposed)
    _, done = teams.ask(REQUESTER, value=button_data(card, "Confirm"))
    assert any(f"Reset the password of {TARGET}" in text for text in texts(done)), texts(done)

    profile = _password(stack)  # what Graph received (msgraph-sdk's PATCH body, as the dev tenant stored it)
    secret = str(profile.get("password", ""))
    assert len(secret) >= 24 and profile.get("forceChangePasswordNextSignIn") is True

    conversation = teams.conversation_of(REQUESTER)
    everything_sent = json.dumps(teams.events(conversation), ensure_ascii=False)  # texts, cards, card updates
    assert "Reset the password" in everything_sent and secret not in everything_sent

    settings = load_settings(stack.home)
    with TenantStore.open(settings) as store:
        records = store.run(audit_records.records)
        stored = store.run(every_value)
    reset = [r for r in records if r["ToolName"] == "m365_password_reset"]
    assert len(reset) == 1 and reset[0]["Outcome"] == "Success" and reset[0]["Arguments"] == {"user": TARGET}
    assert secret not in json.dumps(records, ensure_ascii=False)
    assert "m365_password_reset" in stored and secret not in stored

    ops = "".join(p.read_text(encoding="utf-8") for p in sorted((stack.home / "logs").glob("ops.jsonl*")))
    assert '"event": "action.finished"' in ops and secret not in ops
    assert secret not in stack.log_path.read_text(encoding="utf-8", errors="replace")  # stdout + stderr
    needle = secret.encode()
    graph_side = stack.home / "devtenant"  # the dev tenant's own state is Graph's side, not the appliance's
    for path in (p for p in stack.home.rglob("*") if p.is_file() and graph_side not in p.parents):
        assert needle not in path.read_bytes(), f"the temporary password is in {path}"
