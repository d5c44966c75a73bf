"""Signed checkpoints of the audit chain (pure): signing, strict parsing, trust, and the head comparison
that names a truncated or rewritten chain."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit.anchor import (
    CHECKPOINT_FORMAT,
    AnchorReport,
    Checkpoint,
    CheckpointError,
    check_head,
    newest_trusted,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)

KEY = Ed25519PrivateKey.generate()
MOMENT = datetime(2026, 5, 21, 10, 14, 5, tzinfo=UTC)


def _hash(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _chain(last: int, first: int = 1) -> dict[int, str]:
    return {n: _hash(n) for n in range(first, last + 1)}


def test_a_signed_checkpoint_round_trips_through_its_file_form() -> None:
    signed = sign_checkpoint(KEY, count=7, head=_hash(7), moment=MOMENT)
    assert signed.time == "2026-05-21T10:14:05Z" and signed.count == 7 and signed.head == _hash(7)
    document = signed.as_dict()
    assert document["format"] == CHECKPOINT_FORMAT
    assert verify_checkpoint(parse_checkpoint(document), KEY.public_key()) == signed


def test_the_ops_log_form_with_at_instead_of_time_parses_too() -> None:
    signed = sign_checkpoint(KEY, count=2, head=_hash(2), moment=MOMENT)
    line = {"event": "audit.checkpoint", "count": 2, "head": signed.head, "at": signed.time,
            "signer": signed.signer, "signature": signed.signature, "level": "info"}
    assert verify_checkpoint(parse_checkpoint(line), KEY.public_key()) == signed


@pytest.mark.parametrize(
    ("field", "value"),
    [("count", 8), ("head", _hash(8)), ("time", "2026-05-21T10:14:06Z"),
     ("signer", sign_checkpoint(Ed25519PrivateKey.generate(), count=0, head=_hash(0), moment=MOMENT).signer)],
)
def test_any_changed_field_breaks_the_signature(field: str, value: object) -> None:
    document = {**sign_checkpoint(KEY, count=7, head=_hash(7), moment=MOMENT).as_dict(), field: value}
    with pytest.raises(CheckpointError):
        verify_checkpoint(parse_checkpoint(document), KEY.public_key())


def test_a_checkpoint_signed_by_another_key_is_not_trusted() -> None:
    other = sign_checkpoint(Ed25519PrivateKey.generate(), count=7, head=_hash(7), moment=MOMENT)
    with pytest.raises(CheckpointError, match="another key"):
        verify_checkpoint(other, KEY.public_key())
    # the same fields with our signer named but the other key's signature
    forged = Checkpoint(other.count, other.head, other.time, sign_checkpoint(KEY, count=0, head=_hash(0),
                        moment=MOMENT).signer, other.signature)
    with pytest.raises(CheckpointError, match="signature"):
        verify_checkpoint(forged, KEY.public_key())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "aidizen-audit-checkpoint/0", "format"),
        ("count", -1, "count"), ("count", "7", "count"), ("count", True, "count"),
        ("head", _hash(7).upper(), "head"), ("head", _hash(7) + "\n", "head"), ("head", None, "head"),
        ("time", "2026-05-21 10:14:05", "time"), ("time", "2026-05-21T10:14:05Z\n", "time"),
        ("signer", "not base64!", "signer"), ("signer", None, "signer"),
        ("signature", "AAAA", "signature"),
    ],
)
def test_malformed_checkpoints_are_refused_by_name(field: str, value: object, message: str) -> None:
    document = {**sign_checkpoint(KEY, count=7, head=_hash(7), moment=MOMENT).as_dict(), field: value}
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(document)


def test_signing_refuses_a_bad_head_or_count() -> None:
    with pytest.raises(ValueError):
        sign_checkpoint(KEY, count=-1, head=_hash(1), moment=MOMENT)
    with pytest.raises(ValueError):
        sign_checkpoint(KEY, count=1, head="abc", moment=MOMENT)


def test_the_newest_trusted_checkpoint_wins_and_the_rest_are_counted() -> None:
    older = sign_checkpoint(KEY, count=3, head=_hash(3), moment=MOMENT).as_dict()
    newer = sign_checkpoint(KEY, count=5, head=_hash(5), moment=MOMENT).as_dict()
    same_count_later = sign_checkpoint(KEY, count=5, head=_hash(5), moment=MOMENT.replace(minute=20)).as_dict()
    foreign = sign_checkpoint(Ed25519PrivateKey.generate(), count=99, head=_hash(99), moment=MOMENT).as_dict()
    garbage = {"count": "x"}
    best, rejected = newest_trusted([older, foreign, newer, garbage, same_count_later], KEY.public_key())
    assert best is not None and (best.count, best.time) == (5, "2026-05-21T10:20:05Z")
    assert rejected == 2
    assert newest_trusted([], KEY.public_key()) == (None, 0)


def _check(checkpoint: Checkpoint | None, chain: dict[int, str], *, anchor: str = "0" * 64, first: int = 1):  # type: ignore[no-untyped-def]
    last = max(chain) if chain else first - 1
    return check_head(checkpoint, last=last, first=first, anchor=anchor, hash_at=chain.get)


def test_a_chain_that_matches_its_checkpoint_is_ok_and_counts_newer_records() -> None:
    report = _check(sign_checkpoint(KEY, count=5, head=_hash(5), moment=MOMENT), _chain(8))
    assert report.ok and report.newer == 3
    assert report.describe() == ("audit chain matches the signed checkpoint of 2026-05-21T10:14:05Z (record 5); "
                                 "3 newer record(s) not yet checkpointed")
    exact = _check(sign_checkpoint(KEY, count=8, head=_hash(8), moment=MOMENT), _chain(8))
    assert exact.ok and exact.newer == 0 and "newer" not in exact.describe()


def test_a_deleted_newest_record_is_named_a_truncation() -> None:
    checkpoint = sign_checkpoint(KEY, count=8, head=_hash(8), moment=MOMENT)
    report = _check(checkpoint, _chain(7))
    assert not report.ok and "ends at record 7" in report.problem and "truncated" in report.problem
    assert report.describe().startswith("audit chain does not match the signed checkpoint")
    emptied = _check(checkpoint, {})
    assert not emptied.ok and "ends at record 0" in emptied.problem


def test_a_rebuilt_chain_is_named_a_rewrite() -> None:
    checkpoint = sign_checkpoint(KEY, count=5, head=_hash(5), moment=MOMENT)
    rebuilt = {**_chain(8), 5: _hash(500)}
    report = _check(checkpoint, rebuilt)
    assert not report.ok and "rewritten" in report.problem and report.problem.startswith("record 5 has another Hash")
    missing = {n: h for n, h in _chain(8).items() if n != 5}
    assert "missing" in _check(checkpoint, missing).problem


def test_retention_before_the_checkpoint_still_checks_the_anchor() -> None:
    kept = _chain(9, first=6)  # records 1..5 purged; record 5's Hash is now the anchor
    at_anchor = sign_checkpoint(KEY, count=5, head=_hash(5), moment=MOMENT)
    assert _check(at_anchor, kept, anchor=_hash(5), first=6).ok
    moved = _check(at_anchor, kept, anchor=_hash(55), first=6)
    assert not moved.ok and "rewritten" in moved.problem
    older = _check(sign_checkpoint(KEY, count=2, head=_hash(2), moment=MOMENT), kept, anchor=_hash(5), first=6)
    assert older.ok and older.newer == 7 and "retention" in older.describe()


def test_an_empty_chain_matches_a_checkpoint_of_nothing_and_no_checkpoint_is_said_plainly() -> None:
    assert _check(sign_checkpoint(KEY, count=0, head="0" * 64, moment=MOMENT), {}).ok
    nothing = _check(None, _chain(3))
    assert nothing.ok and nothing.checkpoint is None and "cannot be ruled out" in nothing.describe()


def test_the_signed_message_is_exactly_this() -> None:
    signed = sign_checkpoint(KEY, count=7, head=_hash(7), moment=MOMENT)
    assert signed.message() == (
        b"aidizen audit checkpoint v1\n"
        + f'{{"count":7,"format":"aidizen-audit-checkpoint/1","head":"{_hash(7)}",'
          f'"signer":"{signed.signer}","time":"2026-05-21T10:14:05Z"}}'.encode()
    )
    assert signed.as_dict() == {"format": CHECKPOINT_FORMAT, "count": 7, "head": _hash(7),
                                "time": "2026-05-21T10:14:05Z", "signer": signed.signer,
                                "signature": signed.signature}
    KEY.public_key().verify(base64.b64decode(signed.signature), signed.message())  # raises if not


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "x", "not a checkpoint of format aidizen-audit-checkpoint/1"),
        ("count", -1, "the checkpoint's count is not a whole number >= 0"),
        ("head", "x", "the checkpoint's head is not a 64-hex hash"),
        ("time", "x", "the checkpoint's time is not a UTC timestamp"),
        ("signer", None, "the checkpoint's signer is missing"),
        ("signer", "!!", "the checkpoint's signer is not base64"),
        ("signer", "AAAA", "the checkpoint's signer is not a canonical 32-byte value"),
        ("signature", None, "the checkpoint's signature is missing"),
        ("signature", "AAAA", "the checkpoint's signature is not a canonical 64-byte value"),
    ],
)
def test_each_refusal_says_exactly_what_is_wrong(field: str, value: object, message: str) -> None:
    document = {**sign_checkpoint(KEY, count=7, head=_hash(7), moment=MOMENT).as_dict(), field: value}
    with pytest.raises(CheckpointError) as caught:
        parse_checkpoint(document)
    assert str(caught.value) == message


def test_a_count_of_zero_and_a_missing_format_are_accepted() -> None:
    document = sign_checkpoint(KEY, count=0, head="0" * 64, moment=MOMENT).as_dict()
    del document["format"]  # an ops-log line carries no format; the signature covers it all the same
    assert verify_checkpoint(parse_checkpoint(document), KEY.public_key()).count == 0


def test_trust_and_signature_refusals_say_exactly_what_is_wrong() -> None:
    foreign = sign_checkpoint(Ed25519PrivateKey.generate(), count=1, head=_hash(1), moment=MOMENT)
    with pytest.raises(CheckpointError) as caught:
        verify_checkpoint(foreign, KEY.public_key())
    assert str(caught.value) == "the checkpoint was signed by another key than the trusted anchor key"
    ours = sign_checkpoint(KEY, count=1, head=_hash(1), moment=MOMENT)
    with pytest.raises(CheckpointError) as caught:
        verify_checkpoint(Checkpoint(2, ours.head, ours.time, ours.signer, ours.signature), KEY.public_key())
    assert str(caught.value) == "the checkpoint's signature does not match it (changed after signing?)"
    with pytest.raises(CheckpointError) as caught:
        verify_checkpoint(Checkpoint(1, ours.head, ours.time, ours.signer, "AAAA"), KEY.public_key())
    assert str(caught.value) == "the checkpoint's signature is not a canonical 64-byte value"


def test_signing_refusals_say_what_a_checkpoint_needs() -> None:
    for count, head in [(-1, _hash(1)), (1, "abc"), (0, _hash(1).upper())]:
        with pytest.raises(ValueError) as caught:
            sign_checkpoint(KEY, count=count, head=head, moment=MOMENT)
        assert str(caught.value) == "a checkpoint needs a count >= 0 and a 64-hex head hash"
    assert sign_checkpoint(KEY, count=0, head=_hash(0), moment=MOMENT).count == 0


# -- the whole report, exactly (each kills mutants of check_head the checks above let through) -------------
def _signed(count: int, head: str | None = None) -> Checkpoint:
    return sign_checkpoint(KEY, count=count, head=head or _hash(count), moment=MOMENT)


def test_each_head_comparison_gives_exactly_this_report() -> None:
    truncated = _signed(5)
    assert _check(truncated, _chain(3)) == AnchorReport(False, truncated, 0, (
        "the chain ends at record 3, but 5 records had been written when it was signed: the newest records were "
        "deleted (truncated)"))
    matched = _signed(3)
    assert _check(matched, _chain(5)) == AnchorReport(True, matched, 2, "")
    first = _signed(1)
    assert _check(first, _chain(3)) == AnchorReport(True, first, 2, "")  # record 1 is compared, not the anchor
    kept_from = _chain(7, first=5)  # records 1..4 purged, record 4's Hash is the anchor
    at_anchor = _signed(4)
    assert _check(at_anchor, kept_from, anchor=_hash(4), first=5) == AnchorReport(True, at_anchor, 3, "")
    assert _check(at_anchor, kept_from, anchor=_hash(44), first=5) == AnchorReport(
        False, at_anchor, 3, "the record before the kept ones no longer has the Hash that was signed (rewritten)")
    oldest_kept = _signed(5)
    assert _check(oldest_kept, kept_from, anchor=_hash(4), first=5) == AnchorReport(True, oldest_kept, 2, "")
    older = _signed(2)
    assert _check(older, kept_from, anchor=_hash(4), first=5) == AnchorReport(
        True, older, 5, "the checkpoint is older than the oldest kept record (retention); take a newer one")


def test_a_checkpoint_of_nothing_matches_whatever_retention_kept() -> None:
    nothing = _signed(0, "0" * 64)
    assert _check(nothing, _chain(3)) == AnchorReport(True, nothing, 3, "")
    assert _check(nothing, _chain(7, first=5), anchor=_hash(4), first=5) == AnchorReport(True, nothing, 7, "")


def test_a_rewrite_names_both_hashes_or_a_missing_record() -> None:
    signed = _signed(3)
    rewritten = {**_chain(5), 3: _hash(300)}
    assert _check(signed, rewritten) == AnchorReport(False, signed, 0, (
        f"record 3 has another Hash than the one signed ({_hash(300)[:12]} instead of {_hash(3)[:12]}): "
        "the chain was rewritten"))
    gone = {n: h for n, h in _chain(5).items() if n != 3}
    assert _check(signed, gone).problem == (
        f"record 3 has another Hash than the one signed (missing instead of {_hash(3)[:12]}): the chain was rewritten")


def test_each_report_reads_exactly_this() -> None:
    assert AnchorReport(True, None).describe() == (
        "no signed checkpoint found: a deleted newest record or a rebuilt chain cannot be ruled out")
    assert AnchorReport(True, _signed(3)).describe() == (
        "audit chain matches the signed checkpoint of 2026-05-21T10:14:05Z (record 3)")
