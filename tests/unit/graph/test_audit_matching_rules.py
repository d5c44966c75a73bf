"""The rules that pick the directory audit entry settling one uncertain write (graph/audit_matching.py), on
msgraph-sdk's own `DirectoryAudit` models (resource: microsoftgraph/microsoft-graph-docs-contrib
api-reference/v1.0/resources/directoryaudit.md): another write's entry never settles this one, several candidates
settle nothing, and a failure entry settles FAILED with Graph's reason only by the same rules."""

from __future__ import annotations

from msgraph.generated.models.audit_activity_initiator import AuditActivityInitiator
from msgraph.generated.models.directory_audit import DirectoryAudit
from msgraph.generated.models.operation_result import OperationResult
from msgraph.generated.models.target_resource import TargetResource
from msgraph.generated.models.user_identity import UserIdentity

from appliance.graph.audit_matching import by_activity, by_correlation, contested
from appliance.types import AuditMatch, ClaimedEntries

AID, USER, GROUP = "aid-oid", "tom-oid", "finance-oid"
NOTHING = ClaimedEntries()
REASON = "User does not have a corresponding license."


def _entry(entry_id: str, *, correlation: str | None = None, failed: bool = False, by: str = AID,
           targets: tuple[str, ...] = (USER,)) -> DirectoryAudit:
    return DirectoryAudit(
        id=entry_id, correlation_id=correlation, activity_display_name="Reset user password",
        result=OperationResult.Failure if failed else OperationResult.Success,
        result_reason=REASON if failed else "", initiated_by=AuditActivityInitiator(user=UserIdentity(id=by)),
        target_resources=[TargetResource(id=t) for t in targets],
    )


def _activity(entries: list[DirectoryAudit], claimed: ClaimedEntries = NOTHING,
              targets: tuple[str, ...] = (USER,)) -> AuditMatch | None:
    return by_activity(entries, aid_id=AID, target_ids=targets, claimed=claimed)


def test_the_only_candidate_settles_and_says_how_it_was_found() -> None:
    assert _activity([_entry("e1")]) == AuditMatch("e1", True, "", "activity")


def test_an_entry_joined_to_another_write_never_settles_this_one() -> None:
    earlier = _entry("e1", correlation="crid-earlier")
    assert _activity([earlier], ClaimedEntries(entry_ids=frozenset({"e1"}))) is None


def test_an_entry_correlated_to_another_writes_request_never_settles_this_one() -> None:
    earlier = _entry("e1", correlation="crid-earlier")
    assert _activity([earlier], ClaimedEntries(client_request_ids=frozenset({"crid-earlier"}))) is None
    # an entry without a correlationId is not ruled out by an empty one
    assert _activity([_entry("e2", correlation="")], ClaimedEntries(client_request_ids=frozenset({""}))) is not None


def test_the_claimed_entry_is_set_aside_and_this_writes_own_failure_entry_settles_failed() -> None:
    earlier, own = _entry("e1", correlation="crid-earlier"), _entry("e2", correlation="other", failed=True)
    claimed = ClaimedEntries(entry_ids=frozenset({"e1"}))
    assert _activity([earlier, own], claimed) == AuditMatch("e2", False, REASON, "activity")


def test_several_candidates_settle_nothing_never_the_first_one() -> None:
    assert _activity([_entry("e1"), _entry("e2", failed=True)]) is None
    assert _activity([_entry("e1", failed=True), _entry("e2")]) is None


def test_a_failure_entry_that_is_one_of_several_settles_nothing() -> None:
    assert _activity([_entry("e1", failed=True), _entry("e2", failed=True)]) is None


def test_entries_of_another_initiator_or_another_target_are_not_candidates() -> None:
    assert _activity([_entry("e1", by="someone-else")]) is None
    assert _activity([_entry("e1", targets=("other-oid",))]) is None
    # a group write names both the group and the user: an entry naming only one of them is another write's
    assert _activity([_entry("e1", targets=(USER,))], targets=(GROUP, USER)) is None
    assert _activity([_entry("e1", targets=(GROUP, USER))], targets=(GROUP, USER)) is not None
    assert _activity([DirectoryAudit(id="e1", result=OperationResult.Success, target_resources=[])]) is None


def test_by_correlation_prefers_success_and_skips_entries_joined_elsewhere() -> None:
    failed, done = _entry("e1", correlation="c", failed=True), _entry("e2", correlation="c")
    assert by_correlation([failed, done], NOTHING) == AuditMatch("e2", True, "", "correlationId")
    assert by_correlation([failed], NOTHING) == AuditMatch("e1", False, REASON, "correlationId")
    assert by_correlation([failed, done], ClaimedEntries(entry_ids=frozenset({"e2"}))) == AuditMatch(
        "e1", False, REASON, "correlationId")
    assert by_correlation([done], ClaimedEntries(entry_ids=frozenset({"e2"}))) is None
    assert by_correlation([], NOTHING) is None


def test_an_unjoined_write_of_the_same_activity_on_the_same_target_contests_the_window() -> None:
    reset, tom = "Reset user password", {"user": "Tom.Becker@contoso.com"}
    rival = ClaimedEntries(rivals=(("m365_password_reset", '{"user":"tom.becker@contoso.com"}'),))
    assert contested(reset, tom, rival)  # the entry could be either write's: it settles neither
    assert not contested(reset, {"user": "sarah.lin@contoso.com"}, rival)  # another target
    assert not contested("Disable account", tom, ClaimedEntries(rivals=(("m365_user_disable", "{}"),)))
    assert not contested("Disable account", tom, rival)  # another activity
    assert not contested(reset, tom, NOTHING)
    # license assign and remove log the same activity; a group write's target is the group and the user
    licenses = ClaimedEntries(rivals=(("m365_license_remove", '{"sku":"SPE_E5","user":"tom.becker@contoso.com"}'),))
    assert contested("Change user license", {"user": "tom.becker@contoso.com", "sku": "ENTERPRISEPACK"}, licenses)
    add = '{"group":"finance@contoso.com","user":"x@contoso.com"}'
    group = ClaimedEntries(rivals=(("m365_group_add_member", add),))
    assert contested("Add member to group", {"group": "finance@contoso.com", "user": "x@contoso.com"}, group)
    assert not contested("Add member to group", {"group": "hr@contoso.com", "user": "x@contoso.com"}, group)
