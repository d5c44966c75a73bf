"""End to end through real processes against a dev tenant that behaves as Microsoft documents (issue 10):
consent missing and extra at start-up, privileged targets refused before any card (direct role, role-assignable
group, PIM-eligible; past page 1), requester groups found past page 1, commit-then-504 on license assign/remove
and group add/remove (one write, the truth told), late directory audit entries on a simulated clock (Unknown,
then settled), a failure entry, Bot Connector faults on the outcome message, and a signing-key rollover.

One `appliance serve --dev` (real model, SQLCipher, botbuilder, msal, msgraph-sdk) for the module; the dev tenant
runs in this process, so the test plays its clock, page size, faults and keys directly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from appliance.config import CONFIG_FILE_NAME, load_settings
from appliance.store import TenantStore, audit_records, conversations, pending_actions
from appliance.wiring.dev import DEV_CLIENT_ID
from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.clock import AuditLatency
from appliance_dev.devtenant.faults import write_fault_profile
from appliance_dev.devtenant.teams_client import DevTeamsClient, button_data
from tests.conftest import SHARED_MODELS_DIR
from tests.integration.teams.conftest import cards, texts

GATE = ('[gate]\nrequester_groups = ["helpdesk@contoso.com"]\nreconcile_after_seconds = 4\nupkeep_seconds = 1\n'
        "confirmation_minutes = 10\n")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    home = tmp_path_factory.mktemp("realtenant") / "home"
    with DevStack(home, extra_config=GATE, models_dir=SHARED_MODELS_DIR) as prepared:
        assert prepared.tenant is not None
        prepared.tenant.context.page_size = 2  # every collection pages: decisions must read past page 1
        yield prepared


@pytest.fixture(scope="module")
def teams(stack: DevStack) -> DevTeamsClient:
    """The appliance running (started once, after the start-up tests)."""
    stack.start_appliance()
    assert stack.client is not None
    return stack.client


def _consent(stack: DevStack) -> list[str]:
    assert stack.tenant is not None
    scopes: list[str] = stack.tenant.context.state.data["clients"][DEV_CLIENT_ID]["consentedScopes"]
    return scopes


def _set_strict(stack: DevStack, strict: bool) -> None:
    path = stack.home / CONFIG_FILE_NAME
    text = path.read_text(encoding="utf-8").replace("strict_scopes = true\n", "")
    path.write_text(text.replace("[graph]", "[graph]\nstrict_scopes = true\n" if strict else "[graph]", 1))


def test_missing_consent_stops_start_up_naming_the_scopes_and_the_admin_consent_url(stack: DevStack) -> None:
    consented = _consent(stack)
    consented.remove("LicenseAssignment.ReadWrite.All")
    try:
        with pytest.raises(RuntimeError) as stopped:
            stack.start_appliance(timeout=120)
    finally:
        consented.append("LicenseAssignment.ReadWrite.All")
    said = str(stopped.value)
    assert "exited (2)" in said and "missing consent for LicenseAssignment.ReadWrite.All" in said
    assert "m365_license_assign" in said and f"/adminconsent?client_id={DEV_CLIENT_ID}" in said


def test_extra_consent_is_reported_and_refused_when_strict(stack: DevStack) -> None:
    consented = _consent(stack)
    consented.append("Mail.Read")
    try:
        _set_strict(stack, True)
        with pytest.raises(RuntimeError, match=r"consented scopes no enabled tool needs: Mail\.Read"):
            stack.start_appliance(timeout=120)
        _set_strict(stack, False)
        stack.start_appliance()
        assert "scopes: the Aid holds consented scopes nothing needs: Mail.Read" in stack.log_tail(80)
    finally:
        stack.stop_appliance()
        consented.remove("Mail.Read")


def _wait(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


def _writes(stack: DevStack, crid: str) -> int:
    assert stack.tenant is not None
    return sum(1 for w in stack.tenant.context.writes if w["client-request-id"] == crid)


def _action(stack: DevStack, action_id: str) -> Any:
    with TenantStore.open(load_settings(stack.home)) as store:
        return store.run(pending_actions.get_action, action_id)


def _records(stack: DevStack, crid: str) -> list[dict[str, Any]]:
    with TenantStore.open(load_settings(stack.home)) as store:
        return [r for r in store.run(audit_records.records) if r.get("ClientRequestId") == crid]


def _card(teams: DevTeamsClient, upn: str, message: str) -> dict[str, Any]:
    _, events = teams.ask(upn, message)
    found = cards(events)
    assert found, f"no card for {message!r}: {texts(events)}"
    return found[0]


def _confirm(teams: DevTeamsClient, upn: str, card: dict[str, Any], until: Callable[[list[str]], bool],
             timeout: float = 90.0) -> list[str]:
    conversation = teams.conversation_of(upn)
    after = teams.last_seq(conversation)
    teams.send(upn, value=button_data(card, "Confirm"))
    events = teams.wait_for(conversation, after, lambda found: until(texts(found)), timeout)
    return texts(events)


def _forget_conversation(stack: DevStack, teams: DevTeamsClient, upn: str) -> None:
    """Start `upn` on an empty history: earlier tests' turns (a look-up, a reset already DONE) are context the
    135M test model may answer with a reply instead of a call; a test about delivery must not hang on that."""
    ref = f"teams://msg/{teams.conversation_of(upn)}"  # appliance.teams.activities: the conversation's ref
    with TenantStore.open(load_settings(stack.home)) as store:
        store.run(conversations.forget_conversation, ref)


def _verify(stack: DevStack) -> str:
    env = {**os.environ, "APPLIANCE_HOME": str(stack.home)}
    done = subprocess.run([sys.executable, "-m", "appliance", "audit", "verify"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(("message", "why"), [
    ("Disable the account of admin@contoso.com", "holds the Global Administrator role"),
    ("Disable the account of rita.roles@contoso.com", "member of Privileged Helpers"),  # role on page 2
    ("Disable the account of owen.owner@contoso.com", "owns Privileged Helpers"),
    ("Disable the account of eli.eligible@contoso.com", "eligible for an administrator role"),
    ("Enable eli.eligible@contoso.com again", "eligible for an administrator role"),
])
def test_each_privileged_target_is_refused_before_any_card(
    stack: DevStack, teams: DevTeamsClient, message: str, why: str
) -> None:
    assert stack.tenant is not None
    writes = len(stack.tenant.context.writes)
    _, events = teams.ask("jo.kim@contoso.com", message)
    assert cards(events) == [], texts(events)
    said = " ".join(texts(events))
    assert why in said and "does not change administrator accounts" in said
    assert "more rights" not in said and "can grant it" not in said
    assert len(stack.tenant.context.writes) == writes  # nothing was sent to Graph


def test_a_requester_group_on_page_two_of_the_memberships_is_found(teams: DevTeamsClient) -> None:
    # Hana's groups, two to a page: Berlin Office, IT Staff | Helpdesk (the requester group)
    _, events = teams.ask("hana.berg@contoso.com", "Who is sarah.lin@contoso.com?")
    assert any("Sarah Lin" in text for text in texts(events)), texts(events)


@pytest.mark.parametrize(("upn", "message", "route"), [
    ("doug@contoso.com", "Assign an E3 license (ENTERPRISEPACK) to sarah.lin@contoso.com", r"/assignLicense$"),
    ("hana.berg@contoso.com", "Remove the ENTERPRISEPACK license from priya.n@contoso.com", r"/assignLicense$"),
    ("ivo.petrov@contoso.com", "please put mike.chan@contoso.com into the group finance@contoso.com",
     r"/members/\$ref$"),
    ("jo.kim@contoso.com", "finance@contoso.com: remove sarah.lin@contoso.com from this group",
     r"/members/[^/]+/\$ref$"),
])
def test_a_write_graph_committed_before_answering_504_is_sent_once_and_told_truthfully(
    stack: DevStack, teams: DevTeamsClient, upn: str, message: str, route: str
) -> None:
    assert stack.tenant is not None
    card = _card(teams, upn, message)
    action_id = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    method = "DELETE" if "remove" in message and "group" in message else "POST"
    stack.tenant.context.faults.set(write_fault_profile("commit_then_504", route, method))
    said = _confirm(teams, upn, card, lambda found: any("Done:" in text for text in found))
    stack.tenant.context.faults.set([])
    crid = _action(stack, action_id).client_request_id
    assert _writes(stack, crid) == 1
    assert any("no clear answer" in text and "will not be sent again" in text for text in said), said
    assert not any("nothing was changed" in text.lower() for text in said), said
    assert _action(stack, action_id).state == "DONE"
    (record,) = _records(stack, crid)
    assert record["Outcome"] == "Success" and record["AuditEntryId"]
    assert record["GraphStatus"] == 504 and record["GraphRequestId"]  # the lost answer's own request-id


def test_a_late_entry_leaves_the_action_unknown_then_settles_it_on_the_simulated_clock(
    stack: DevStack, teams: DevTeamsClient
) -> None:
    assert stack.tenant is not None
    ctx = stack.tenant.context
    card = _card(teams, "doug@contoso.com", "Disable the account of leaver@contoso.com")
    action_id = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    ctx.audit_latency = AuditLatency.fixed(300)  # Entra's 99th percentile: 5 minutes, on the tenant's clock
    ctx.faults.set(write_fault_profile("commit_then_504", r"^/v1\.0/users/[^/]+$", "PATCH"))
    try:
        said = _confirm(teams, "doug@contoso.com", card, lambda found: any("can't confirm yet" in t for t in found))
    finally:
        ctx.faults.set([])
        ctx.audit_latency = AuditLatency()
    crid = _action(stack, action_id).client_request_id
    assert _writes(stack, crid) == 1 and _action(stack, action_id).state == "UNKNOWN"
    assert not any("nothing was changed" in text.lower() for text in said), said
    assert [r["Outcome"] for r in _records(stack, crid)] == ["Unknown"]
    assert "open Unknown outcomes: 1" in _verify(stack)
    conversation = teams.conversation_of("doug@contoso.com")
    after = teams.last_seq(conversation)
    ctx.clock.advance(301)  # five simulated minutes later the entry is readable
    told = teams.wait_for(conversation, after, lambda found: any("now shows it" in t for t in texts(found)))
    assert any("Done:" in text for text in texts(told)), texts(told)
    _wait(lambda: _action(stack, action_id).state == "DONE", "the action to be settled")
    assert [r["Outcome"] for r in _records(stack, crid)] == ["Unknown", "Success"]
    assert _records(stack, crid)[1]["AuditEntryMatchedBy"] == "correlationId"  # settled by its own request id
    assert "open Unknown outcomes: 0" in _verify(stack)
    assert _writes(stack, crid) == 1


def test_a_failure_entry_settles_the_action_failed_with_graphs_reason(stack: DevStack, teams: DevTeamsClient) -> None:
    assert stack.tenant is not None
    _forget_conversation(stack, teams, "ivo.petrov@contoso.com")  # his group request earlier is not this test's
    card = _card(teams, "ivo.petrov@contoso.com", "Remove the SPE_E5 license from sarah.lin@contoso.com")
    action_id = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    # Graph refuses the removal (Sarah holds no SPE_E5) and logs a failure entry; the answer itself is lost
    stack.tenant.context.faults.set(write_fault_profile("commit_then_504", r"/assignLicense$", "POST"))
    said = _confirm(teams, "ivo.petrov@contoso.com", card,
                    lambda found: any("recorded it as failed" in t for t in found))
    stack.tenant.context.faults.set([])
    assert any("User does not have a corresponding license." in text for text in said), said
    crid = _action(stack, action_id).client_request_id
    assert _action(stack, action_id).state == "FAILED" and _writes(stack, crid) == 1
    assert [r["Outcome"] for r in _records(stack, crid)] == ["Failure"]
    assert _records(stack, crid)[0]["AuditEntryMatchedBy"] == "correlationId"


def test_an_earlier_writes_entry_on_the_same_user_never_settles_a_later_lost_write(
    stack: DevStack, teams: DevTeamsClient
) -> None:
    """Two password resets of one user within seconds: the first succeeds and is joined to its entry; the second
    is lost before Graph takes it, so no entry of its own lands. The documented fields (activity, target, the Aid,
    the window) find only the first's entry: it is claimed by the first, so it settles nothing, and the second
    ends Unknown, said so (issue 15: never guessed)."""
    assert stack.tenant is not None
    upn, ask = "doug@contoso.com", "Reset the password of tom.becker@contoso.com"
    _forget_conversation(stack, teams, upn)
    card = _card(teams, upn, ask)
    first = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    teams.send(upn, value=button_data(card, "Confirm"))
    _wait(lambda: _action(stack, first).state == "DONE", "the first reset to finish")
    first_crid = _action(stack, first).client_request_id
    _wait(lambda: _records(stack, first_crid)[0].get("AuditEntryId"), "the first reset's entry to be joined")
    assert _records(stack, first_crid)[0]["AuditEntryMatchedBy"] == "correlationId"  # the audit join says how
    _forget_conversation(stack, teams, upn)  # the 135M model answers a repeated request better on a fresh history
    card = _card(teams, upn, ask)
    second = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    stack.tenant.context.faults.set(write_fault_profile("dropped_before_write", r"^/v1\.0/users/[^/]+$", "PATCH"))
    try:  # the first turn's own end: settled (wrongly, DONE) or Unknown after reconcile_after_seconds
        said = _confirm(teams, upn, card, lambda found: any("can't confirm yet" in t or "Done:" in t for t in found))
    finally:
        stack.tenant.context.faults.set([])
    crid = _action(stack, second).client_request_id
    assert crid != first_crid and _writes(stack, crid) == 0  # Graph never took it: no entry of its own
    assert not any("Done:" in text for text in said), said
    assert _action(stack, second).state == "UNKNOWN"
    assert [r["Outcome"] for r in _records(stack, crid)] == ["Unknown"]
    assert _records(stack, first_crid)[0]["Outcome"] == "Success"


@pytest.mark.parametrize(("status", "code"), [(429, "Throttled"), (412, "PreconditionFailed")])
def test_a_throttled_or_refused_outcome_message_is_retried_until_the_person_hears_it(
    stack: DevStack, teams: DevTeamsClient, status: int, code: str
) -> None:
    assert stack.tenant is not None
    upn = "hana.berg@contoso.com"
    _forget_conversation(stack, teams, upn)
    card = _card(teams, upn, "Reset the password of priya.n@contoso.com")
    conversation = teams.conversation_of(upn)
    fault = {"path": f"/v3/conversations/{conversation}/activities$", "method": "POST", "status": status,
             "code": code, "times": 2, **({"retry_after": 1} if status == 429 else {})}
    stack.tenant.context.faults.set([fault])
    said = _confirm(teams, upn, card, lambda found: any("Reset the password" in t for t in found))
    stack.tenant.context.faults.set([])
    assert not any("nothing was changed" in text.lower() for text in said), said


def test_an_outcome_teams_will_not_deliver_is_kept_then_delivered(stack: DevStack, teams: DevTeamsClient) -> None:
    assert stack.tenant is not None
    upn = "jo.kim@contoso.com"
    card = _card(teams, upn, "Reset the password of priya.n@contoso.com")
    action_id = str(button_data(card, "Confirm")["action_id"])  # type: ignore[index]
    conversation = teams.conversation_of(upn)
    # a person who blocked the bot blocks every post into the chat: new messages and replies to an activity
    blocked = {"path": f"/v3/conversations/{conversation}/activities(/[^/]+)?$", "method": "POST", "status": 403,
               "code": "ConversationBlockedByUser"}
    stack.tenant.context.faults.set([blocked])
    teams.send(upn, value=button_data(card, "Confirm"))
    _wait(lambda: _action(stack, action_id).state == "DONE", "the action to finish")
    verified = _wait(lambda: (out := _verify(stack)) and "undelivered messages: 1" in out and out, "the kept message")
    assert "ConversationBlockedByUser" in verified
    stack.tenant.context.faults.set([])  # the person unblocks the bot
    after = teams.last_seq(conversation)
    with TenantStore.open(load_settings(stack.home)) as store:  # due now, instead of in five minutes
        store.run(lambda db: db.execute("UPDATE undelivered_messages SET next_try_at = ''"))
    told = teams.wait_for(conversation, after, lambda found: any("Reset the password" in t for t in texts(found)))
    assert not any("nothing was changed" in text.lower() for text in texts(told))
    assert "undelivered messages: 0" in _verify(stack)


def test_a_signing_key_rollover_mid_session_refuses_nothing(stack: DevStack, teams: DevTeamsClient) -> None:
    assert stack.tenant is not None
    stack.tenant.context.rotate_signing_key()  # activities are signed with a key the appliance has not seen
    for _ in range(3):
        sent, events = teams.ask("doug@contoso.com", "Who is sarah.lin@contoso.com?")
        assert sent.status == 202 and texts(events), sent
