"""Signed checkpoints of the audit chain: its head (count and Hash) at a moment, signed with Ed25519 by a
key the store does not hold.

The hash chain alone shows an edited, removed or reordered record, but not a chain cut short at its end
(the newest records deleted) nor one rebuilt from scratch by someone who holds the store key: both still
walk cleanly from the anchor. A checkpoint kept outside the store (the ops log, and a file an auditor
keeps) pins the head; `check_head` compares today's chain with the newest trusted checkpoint and names
a truncation or a rewrite.

`count` is the sequence number of the newest record (records are numbered from 1 and retention only
removes the oldest, so it is how many records were ever written). Pure: no files, no clock (callers
pass the moment in), no store.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.audit.encoding import strict_b64
from appliance.audit.record import utc_stamp
from appliance.errors import ApplianceError

CHECKPOINT_FORMAT = "aidizen-audit-checkpoint/1"
SIGNING_CONTEXT = b"aidizen audit checkpoint v1\n"  # domain separation: nothing else signed alike verifies
LOG_EVENT = "audit.checkpoint"
HEAD_RE = re.compile(r"[0-9a-f]{64}")
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


class CheckpointError(ApplianceError):
    """A checkpoint that is malformed, or not signed by the trusted anchor key."""

    hint = "Use a checkpoint exactly as the appliance wrote it (ops log line or `appliance audit checkpoint` file)."


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at `time`: `count` records written, the newest with Hash `head`; signed by `signer`."""

    count: int
    head: str
    time: str
    signer: str  # the signer's raw Ed25519 public key, base64
    signature: str  # base64 of the 64-byte signature over `message()`

    def message(self) -> bytes:
        """What the signature covers: the context string, then the checkpoint (less its signature) as JSON."""
        body = {"format": CHECKPOINT_FORMAT, "count": self.count, "head": self.head, "time": self.time,
                "signer": self.signer}
        return SIGNING_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")

    def as_dict(self) -> dict[str, Any]:
        """The file form (one JSON object per line in an exported checkpoint file)."""
        return {"format": CHECKPOINT_FORMAT, **asdict(self)}


def raw_public_b64(key: Ed25519PublicKey) -> str:
    """The 32 raw bytes of a public key, base64 (how a checkpoint names its signer)."""
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def sign_checkpoint(key: Ed25519PrivateKey, *, count: int, head: str, moment: datetime) -> Checkpoint:
    """A signed checkpoint of the head (`count`, `head`) at `moment`."""
    if count < 0 or not HEAD_RE.fullmatch(head):
        raise ValueError("a checkpoint needs a count >= 0 and a 64-hex head hash")
    unsigned = Checkpoint(count, head, utc_stamp(moment), raw_public_b64(key.public_key()), "")
    signature = base64.b64encode(key.sign(unsigned.message())).decode()
    return Checkpoint(unsigned.count, unsigned.head, unsigned.time, unsigned.signer, signature)


def parse_checkpoint(data: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint from its file form or its ops-log line (`count`, `head`, `time` or `at`, `signer`,
    `signature`). Raises CheckpointError naming the first field that is not in its one exact shape."""
    count, head, time = data.get("count"), data.get("head"), data.get("time", data.get("at"))
    if data.get("format", CHECKPOINT_FORMAT) != CHECKPOINT_FORMAT:
        raise CheckpointError(f"not a checkpoint of format {CHECKPOINT_FORMAT}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise CheckpointError("the checkpoint's count is not a whole number >= 0")
    if not isinstance(head, str) or not HEAD_RE.fullmatch(head):
        raise CheckpointError("the checkpoint's head is not a 64-hex hash")
    if not isinstance(time, str) or not TIME_RE.fullmatch(time):
        raise CheckpointError("the checkpoint's time is not a UTC timestamp")
    signer, signature = data.get("signer"), data.get("signature")
    _strict_b64(signer, "signer", 32)
    _strict_b64(signature, "signature", 64)
    return Checkpoint(count, head, time, str(signer), str(signature))


def verify_checkpoint(checkpoint: Checkpoint, trusted: Ed25519PublicKey) -> Checkpoint:
    """`checkpoint` if `trusted` signed it; CheckpointError otherwise."""
    if checkpoint.signer != raw_public_b64(trusted):
        raise CheckpointError("the checkpoint was signed by another key than the trusted anchor key")
    try:
        trusted.verify(_strict_b64(checkpoint.signature, "signature", 64), checkpoint.message())
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature does not match it (changed after signing?)") from None
    return checkpoint


def newest_trusted(candidates: Iterable[Mapping[str, Any]], trusted: Ed25519PublicKey) -> tuple[Checkpoint | None, int]:
    """The newest checkpoint (highest count, then latest time) among `candidates` that `trusted` signed,
    and how many candidates were rejected (malformed or signed by another key)."""
    best: Checkpoint | None = None
    rejected = 0
    for candidate in candidates:
        try:
            checkpoint = verify_checkpoint(parse_checkpoint(candidate), trusted)
        except CheckpointError:
            rejected += 1
            continue
        if best is None or (checkpoint.count, checkpoint.time) > (best.count, best.time):
            best = checkpoint
    return best, rejected


@dataclass(frozen=True)
class AnchorReport:
    """The chain's head compared with a checkpoint: ok, what is wrong, and how many records are newer."""

    ok: bool
    checkpoint: Checkpoint | None
    newer: int = 0
    problem: str = ""

    def describe(self) -> str:
        """One line for an operator."""
        if self.checkpoint is None:
            return "no signed checkpoint found: a deleted newest record or a rebuilt chain cannot be ruled out"
        where = f"the signed checkpoint of {self.checkpoint.time} (record {self.checkpoint.count})"
        if not self.ok:
            return f"audit chain does not match {where}: {self.problem}"
        tail = f"; {self.newer} newer record(s) not yet checkpointed" if self.newer else ""
        note = f" ({self.problem})" if self.problem else ""
        return f"audit chain matches {where}{tail}{note}"


def check_head(
    checkpoint: Checkpoint | None, *, last: int, first: int, anchor: str, hash_at: Callable[[int], str | None]
) -> AnchorReport:
    """Compare the kept chain (records `first`..`last`, 0 when empty; `anchor` = the Hash before `first`)
    with `checkpoint`. `hash_at(n)` is the stored Hash of record n (None if there is no such record).

    Truncation: the checkpoint counts more records than the chain holds. Rewrite: the record the
    checkpoint signed now has another Hash (or the anchor before the kept records moved).
    """
    if checkpoint is None:
        return AnchorReport(True, None)
    if checkpoint.count > last:
        return AnchorReport(False, checkpoint, problem=(
            f"the chain ends at record {last}, but {checkpoint.count} records had been written when it was signed: "
            "the newest records were deleted (truncated)"))
    if checkpoint.count == 0 or checkpoint.count == first - 1:
        signed_hash = checkpoint.head if checkpoint.count else None
        if signed_hash is not None and signed_hash != anchor:
            return AnchorReport(False, checkpoint, last - checkpoint.count,
                                "the record before the kept ones no longer has the Hash that was signed (rewritten)")
        return AnchorReport(True, checkpoint, last - checkpoint.count)
    if checkpoint.count < first:
        return AnchorReport(True, checkpoint, last - checkpoint.count,
                            "the checkpoint is older than the oldest kept record (retention); take a newer one")
    found = hash_at(checkpoint.count)
    if found != checkpoint.head:
        return AnchorReport(False, checkpoint, problem=(
            f"record {checkpoint.count} has another Hash than the one signed "
            f"({(found or 'missing')[:12]} instead of {checkpoint.head[:12]}): the chain was rewritten"))
    return AnchorReport(True, checkpoint, last - checkpoint.count)


def _strict_b64(value: object, what: str, size: int) -> bytes:
    try:
        return strict_b64(value, f"the checkpoint's {what}", size)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
