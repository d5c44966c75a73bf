"""kill -9 of the appliance between the confirmation and the end of an action, at three points; after
a restart each action ran at most once and is settled from the directory audit log: done once, or
Unknown (and said so) when Graph has no entry for it. The module also lets one proposal expire
(confirmations last one minute here) across those restarts.

The dev tenant holds the Graph call (fault injection) so the kill lands exactly: before the write
reached Graph, while Graph is doing the write, and after the write with only the reply outstanding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from appliance.config import load_settings
from appliance.store import TenantStore, audit_records, pending_actions
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.clock import AuditLatency
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data, card_of
from tests.integration.teams.conftest import running_stack, texts

GATE = ('[gate]\nrequester_groups = ["helpdesk@contoso.com"]\nreconcile_after_seconds = 2\nconfirmation_minutes = 1\n'
        "upkeep_seconds = 2\n")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    for running in running_stack(tmp_path_factory, "crash", GATE):
        assert running.tenant is not None
        # this module is about crashes: entries are readable at once (late entries: test_real_tenant.py)
        running.tenant.context.audit_latency = AuditLatency("instant")
        yield running


@pytest.fixture(scope="module")
def early_card(teams: DevTeamsClient) -> dict[str, Any]:
    """A proposal made as the module starts; the last test finds it expired."""
    _, events = teams.ask("doug@contoso.com", "Reset the password of mike.chan@contoso.com")
    return next(c for e in events if (c := card_of(e)) is not None)


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _action(stack: DevStack, action_id: str) -> Any:
    with TenantStore.open(load_settings(stack.home)) as store:
        return store.run(pending_actions.get_action, action_id)


def _record(stack: DevStack, client_request_id: str) -> dict[str, Any] | None:
    with TenantStore.open(load_settings(stack.home)) as store:
        return store.run(audit_records.find_by_client_request_id, client_request_id)


def _audits(stack: DevStack, correlation_id: str) -> list[dict[str, Any]]:
    assert stack.tenant is not None
    return [a for a in stack.tenant.context.state.data["directoryAudits"] if a["correlationId"] == correlation_id]


def _crash_during_confirm(stack: DevStack, teams: DevTeamsClient, upn: str, message: str, fault: dict[str, Any],
                          until: Callable[[str], bool]) -> tuple[str, str, int]:
    """Propose, arm the fault, press Confirm, kill -9 once `until(action_id)` holds, restart.

    Returns (action id, client-request-id, transcript position before the restart)."""
    assert stack.tenant is not None
    _, events = teams.ask(upn, message)
    card = next(c for e in events if (c := card_of(e)) is not None)
    action_id = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    stack.tenant.context.faults.set([fault])
    teams.send(upn, value=button_data(card, "Confirm"))
    _wait(lambda: until(action_id), "the moment to crash")
    stack.kill_appliance()
    stack.tenant.context.faults.set([])
    crid = _action(stack, action_id).client_request_id
    assert crid, "EXECUTING is committed with its client-request-id before the Graph call"
    position = teams.last_seq(teams.conversation_of(upn))
    stack.start_appliance()
    return action_id, crid, position


def _held(stack: DevStack) -> Callable[[str], bool]:
    """True once the dev tenant is holding the faulted request (the appliance waits on Graph)."""
    assert stack.tenant is not None
    faults = stack.tenant.context.faults
    before = faults.applied
    return lambda action_id: faults.applied > before


def test_killed_before_the_write_reached_graph_is_unknown_and_never_rerun(
    stack: DevStack, teams: DevTeamsClient, early_card: dict[str, Any]
) -> None:
    fault = {"path": r"^/v1\.0/users/priya\.n@contoso\.com$", "method": "GET", "latency_ms": 15000, "times": 1}
    action_id, crid, position = _crash_during_confirm(
        stack, teams, "ivo.petrov@contoso.com", "Reset the password of priya.n@contoso.com", fault, _held(stack)
    )
    conversation = teams.conversation_of("ivo.petrov@contoso.com")
    told = teams.wait_for_reply(conversation, position)
    # the appliance cannot know the write never left: it says it cannot confirm it, never "nothing was changed"
    assert any("can't confirm yet" in text and "not sent again" in text for text in texts(told)), texts(told)
    assert not any("nothing was changed" in text.lower() for text in texts(told))
    assert _action(stack, action_id).state == "UNKNOWN"
    assert _audits(stack, crid) == []  # Graph never changed anything
    record = _record(stack, crid)
    assert record is not None and record["Outcome"] == "Unknown"


def test_killed_while_graph_was_writing_is_done_once_after_restart(stack: DevStack, teams: DevTeamsClient) -> None:
    fault = {"path": r"^/v1\.0/users/[0-9a-f-]+$", "method": "PATCH", "latency_ms": 4000, "times": 1}
    action_id, crid, position = _crash_during_confirm(
        stack, teams, "jo.kim@contoso.com", "Disable the account of leaver@contoso.com", fault, _held(stack)
    )
    conversation = teams.conversation_of("jo.kim@contoso.com")
    told = teams.wait_for_reply(conversation, position)
    assert any("Microsoft 365 audit log" in text for text in texts(told)), texts(told)
    assert len(_audits(stack, crid)) == 1  # the write Graph finished after the crash, exactly once
    assert stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[union-attr,index]
    record = _record(stack, crid)
    assert record is not None and record["Outcome"] == "Success"
    assert record["AuditEntryId"] == _audits(stack, crid)[0]["id"]
    assert _action(stack, action_id).state == "DONE"


def test_killed_after_the_write_with_the_reply_outstanding_is_done_once(stack: DevStack, teams: DevTeamsClient) -> None:
    fault = {"path": r"/assignLicense$", "method": "POST", "latency_after_ms": 20000, "times": 1}

    def written(action_id: str) -> bool:
        crid = _action(stack, action_id).client_request_id
        return bool(crid and _audits(stack, crid))

    action_id, crid, position = _crash_during_confirm(
        stack, teams, "hana.berg@contoso.com", "Assign an E3 license (ENTERPRISEPACK) to sarah.lin@contoso.com",
        fault, written,
    )
    conversation = teams.conversation_of("hana.berg@contoso.com")
    told = teams.wait_for_reply(conversation, position)
    assert any("Microsoft 365 audit log" in text for text in texts(told)), texts(told)
    assert len(_audits(stack, crid)) == 1
    record = _record(stack, crid)
    assert record is not None and record["Outcome"] == "Success"
    assert _action(stack, action_id).state == "DONE"


def test_an_unconfirmed_proposal_expires_its_card_in_place_and_cannot_be_confirmed(
    stack: DevStack, teams: DevTeamsClient, early_card: dict[str, Any]
) -> None:
    conversation = teams.conversation_of("doug@contoso.com")
    action_id = str(button_data(early_card, "Confirm")["action_id"])  # type: ignore[index]
    _wait(lambda: _action(stack, action_id).state == "EXPIRED", "the upkeep loop to expire the action", 120)

    def updates() -> list[dict[str, Any]]:
        return [c for e in teams.events(conversation) if e["event"] == "update" and (c := card_of(e)) is not None]

    _wait(lambda: bool(updates()), "the expired card to be updated in place", 30)  # sent right after the commit
    assert updates()[-1]["body"][0]["text"] == "Expired" and not updates()[-1]["actions"]
    _, late = teams.ask("doug@contoso.com", value=button_data(early_card, "Confirm"))
    assert any("expired" in text for text in texts(late)), texts(late)
    assert stack.tenant is not None
    resets = [a for a in stack.tenant.context.state.data["directoryAudits"]
              if a["activityDisplayName"] == "Reset user password"
              and a["targetResources"][0]["userPrincipalName"] == "mike.chan@contoso.com"]
    assert resets == []
