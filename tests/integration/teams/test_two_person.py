"""The two-person rule through Teams: the approval card reaches the approver's own chat, and only the
approver's Approve makes the change run; the requester's chat gets the outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_of, card_text
from tests.integration.teams.conftest import running_stack, texts
from tests.integration.teams.edge_http import typed_code

GATE = ('[gate]\nrequester_groups = ["helpdesk@contoso.com"]\ntwo_person_tools = ["m365_user_disable"]\n'
        'approvers = ["jo.kim@contoso.com"]\n')
DOUG, JO = "doug@contoso.com", "jo.kim@contoso.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    yield from running_stack(tmp_path_factory, "two-person", GATE)


def test_a_second_approver_in_their_own_chat_lets_the_change_run(stack: DevStack) -> None:
    teams: DevTeamsClient = stack.client  # type: ignore[assignment]
    teams.ask(JO, "Who is sarah.lin@contoso.com?")  # the approver has talked to the Aid once
    _, proposed = teams.ask(DOUG, "Disable the account of leaver@contoso.com")
    assert any(card_of(e) for e in proposed), texts(proposed)
    jo_chat = teams.conversation_of(JO)
    before = teams.last_seq(jo_chat)
    _, confirmed = teams.ask(DOUG, f"yes {typed_code(next(c for e in proposed if (c := card_of(e)) is not None))}")
    assert any("second approver" in text for text in texts(confirmed)), texts(confirmed)
    assert stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True  # type: ignore[union-attr,index]

    asked = teams.wait_for_reply(jo_chat, before)
    approval = next(c for e in asked if (c := card_of(e)) is not None)
    assert "Second approval needed" in card_text(approval)[0] and button_data(approval, "Approve")
    doug_chat = teams.conversation_of(DOUG)
    position = teams.last_seq(doug_chat)
    _, approved = teams.ask(JO, value=button_data(approval, "Approve"))
    assert any("Running it now" in text for text in texts(approved)), texts(approved)
    outcome = teams.wait_for_reply(doug_chat, position)
    assert any("Disabled the account of leaver@contoso.com" in text for text in texts(outcome)), texts(outcome)
    assert stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[union-attr,index]
