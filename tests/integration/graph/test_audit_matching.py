"""Settling a write from the directory audit log: first by correlationId, then by the documented fields
(same activity, same target object id, initiated by the Aid, inside the action's window); only `success`
settles DONE, a `failure` entry settles FAILED with its reason; entries arrive late."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from appliance.graph.auth import AidIdentity
from appliance.graph.directory import GraphDirectory
from appliance.graph.executors import execute
from appliance.graph.gateway import GraphGateway
from appliance.types import ClaimedEntries
from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.clock import AuditLatency

DISABLE = ("m365_user_disable", {"user": "leaver@contoso.com"})


def _directory(tenant: DevTenant, gateway: GraphGateway) -> GraphDirectory:
    tenant.context.clock.advance(10)  # past the dev tenant's default reporting delay (a few seconds)
    aid = tenant.context.state.user("aid@contoso.com")
    assert aid is not None
    return GraphDirectory(gateway, aid_object_id=aid["id"])


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=1), now + timedelta(minutes=10)


async def test_an_entry_is_matched_by_correlation_id_once_readable(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    tenant.context.audit_latency = AuditLatency.fixed(120)
    crid = str(uuid.uuid4())
    assert (await execute(gateway, *DISABLE, crid)).outcome == "done"
    directory = _directory(tenant, gateway)
    assert await directory.audit_match(*DISABLE, crid, *_window()) is None  # not readable yet
    tenant.context.clock.advance(111)
    match = await directory.audit_match(*DISABLE, crid, *_window())
    assert match is not None and match.succeeded and match.matched_by == "correlationId"


async def test_without_a_correlation_echo_the_documented_fields_still_match(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    tenant.context.correlation_is_client_request_id = False  # the undocumented echo does not hold
    crid = str(uuid.uuid4())
    assert (await execute(gateway, *DISABLE, crid)).outcome == "done"
    match = await _directory(tenant, gateway).audit_match(*DISABLE, crid, *_window())
    assert match is not None and match.succeeded and match.matched_by == "activity"
    outside = datetime.now(UTC) + timedelta(hours=1)
    later = (outside, outside + timedelta(minutes=5))
    assert await _directory(tenant, gateway).audit_match(*DISABLE, crid, *later) is None


async def test_two_candidate_entries_are_ambiguous_and_settle_nothing(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    tenant.context.correlation_is_client_request_id = False
    assert (await execute(gateway, *DISABLE, str(uuid.uuid4()))).outcome == "done"
    assert (await execute(gateway, *DISABLE, str(uuid.uuid4()))).outcome == "done"
    assert await _directory(tenant, gateway).audit_match(*DISABLE, str(uuid.uuid4()), *_window()) is None


async def test_an_entry_another_write_claims_never_settles_this_one(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    earlier = str(uuid.uuid4())
    assert (await execute(gateway, *DISABLE, earlier)).outcome == "done"
    directory, lost = _directory(tenant, gateway), str(uuid.uuid4())  # a later write whose own entry never landed
    found = await directory.audit_match(*DISABLE, lost, *_window())
    assert found is not None and found.matched_by == "activity"  # the documented fields alone take the earlier's
    by_entry = ClaimedEntries(entry_ids=frozenset({found.entry_id}))  # joined to the earlier write's record
    assert await directory.audit_match(*DISABLE, lost, *_window(), by_entry) is None
    by_request = ClaimedEntries(client_request_ids=frozenset({earlier}))  # correlated to the earlier write
    assert await directory.audit_match(*DISABLE, lost, *_window(), by_request) is None
    rival = ClaimedEntries(rivals=(("m365_user_disable", json.dumps(DISABLE[1])),))  # the earlier, not joined yet
    assert await directory.audit_match(*DISABLE, lost, *_window(), rival) is None
    match = await directory.audit_match(*DISABLE, earlier, *_window(), by_request)  # its own write still settles
    assert match is not None and match.entry_id == found.entry_id and match.matched_by == "correlationId"


async def test_a_failure_entry_settles_failed_with_its_reason(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    remove = ("m365_license_remove", {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"})
    crid = str(uuid.uuid4())
    result = await execute(gateway, *remove, crid)
    assert result.outcome == "failed" and result.status == 400
    assert "User does not have a corresponding license." in result.message
    match = await _directory(tenant, gateway).audit_match(*remove, crid, *_window())
    assert match is not None and not match.succeeded and match.reason == "User does not have a corresponding license."
