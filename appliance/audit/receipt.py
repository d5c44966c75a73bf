"""The offboarding receipt: step and check results, the receipt document, Ed25519 signing and verifying.

Pure: no files, no network, no clock (callers pass times in). The file format is the signed document
rendered one way only (sorted keys, two-space indent, ASCII, one trailing newline), and `verify_receipt`
refuses any file that is not exactly that rendering. Together with the signature over the canonical
form of the `receipt` object this makes every single-byte change to a receipt file fail verification,
including changes that would parse to the same JSON (whitespace, escapes).

What a valid signature proves is in docs/OFFBOARDING.md: integrity since signing always; who signed
only when the verifier checks the signer's public key against one obtained some other way.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.audit.encoding import strict_b64
from appliance.errors import ApplianceError

RECEIPT_FORMAT = "aidizen-offboard-receipt/1"
SIGNING_CONTEXT = b"aidizen offboard receipt v1\n"  # domain separation: this key signs nothing else alike
STEP_STATUSES = ("done", "already_done", "skipped", "needs_admin", "failed")
CHECK_STATUSES = ("passed", "skipped", "needs_admin", "failed")
KeyOrigin = Literal["operator", "ephemeral"]


class ReceiptError(ApplianceError):
    """A receipt that does not verify, or a signing key that cannot be used."""

    hint = "Do not trust this receipt; ask for the original file (byte for byte as written) and verify that."


@dataclass(frozen=True)
class Outcome:
    """What one step or check found: its status, one sentence, what to do (if anything), and evidence."""

    status: str
    detail: str
    hint: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """An outcome with its name (stable id), title (for people) and when it ran (UTC, ISO 8601)."""

    name: str
    title: str
    outcome: Outcome
    started_at: str
    finished_at: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form inside the receipt."""
        return {
            "name": self.name,
            "title": self.title,
            "status": self.outcome.status,
            "detail": self.outcome.detail,
            "hint": self.outcome.hint,
            "evidence": dict(sorted(self.outcome.evidence.items())),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def exit_code(results: Iterable[Recorded]) -> int:
    """1 if any step or check failed; else 3 if an admin must still act; else 0."""
    statuses = {r.outcome.status for r in results}
    if "failed" in statuses:
        return 1
    return 3 if "needs_admin" in statuses else 0


def build_receipt(
    *,
    subject: Mapping[str, Any],
    steps: Iterable[Recorded],
    checks: Iterable[Recorded],
    started_at: str,
    finished_at: str,
    appliance_version: str,
) -> dict[str, Any]:
    """The unsigned receipt. `subject` names the tenant, the Aid and what was destroyed (str/int/bool/None)."""
    step_list, check_list = list(steps), list(checks)
    for entry, allowed in [(s, STEP_STATUSES) for s in step_list] + [(c, CHECK_STATUSES) for c in check_list]:
        if entry.outcome.status not in allowed:
            raise ValueError(f"{entry.name}: status {entry.outcome.status!r} is not one of {allowed}")
    return {
        "format": RECEIPT_FORMAT,
        "appliance_version": appliance_version,
        "started_at": started_at,
        "finished_at": finished_at,
        "subject": dict(subject),
        "steps": [s.as_dict() for s in step_list],
        "checks": [c.as_dict() for c in check_list],
        "exit_code": exit_code(step_list + check_list),
    }


# -- keys ------------------------------------------------------------------------------------------
def new_signing_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 key for one receipt (its public key goes into the receipt; the private key is dropped)."""
    return Ed25519PrivateKey.generate()


def load_signing_key(pem: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, optionally encrypted with `password`)."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise ReceiptError(
            f"the signing key is not a usable PEM private key ({exc})",
            hint="Make one with `openssl genpkey -algorithm ed25519 -out offboard-signing.pem`; if it is encrypted, "
            "put its passphrase in $APPLIANCE_RECEIPT_KEY_PASSPHRASE. Nothing was changed.",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptError(
            f"the signing key is a {type(key).__name__.removeprefix('_')}, not an Ed25519 key",
            hint="Receipts are signed with Ed25519: `openssl genpkey -algorithm ed25519 -out offboard-signing.pem`.",
        )
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (`openssl pkey -in KEY -pubout`)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ReceiptError(
            f"the public key is not a PEM public key ({exc})",
            hint="Pass the signer's public key: `openssl pkey -in offboard-signing.pem -pubout -out signer.pub.pem`.",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReceiptError("the public key is not an Ed25519 key", hint="Pass the Ed25519 public key of the signer.")
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """`sha256:<hex>` of the raw public key: short enough to read out, compare or write in a ticket."""
    return "sha256:" + hashlib.sha256(raw_public(key)).hexdigest()


# -- signing and verifying -------------------------------------------------------------------------
def canonical(receipt: Mapping[str, Any]) -> bytes:
    """The signed message: the context string, then the receipt as compact, key-sorted ASCII JSON."""
    return SIGNING_CONTEXT + json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def render(document: Mapping[str, Any]) -> bytes:
    """The one file form of a signed document."""
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def sign_receipt(receipt: Mapping[str, Any], key: Ed25519PrivateKey, *, origin: KeyOrigin) -> bytes:
    """The file bytes of `receipt` signed with `key`; the signer's public key and its origin are signed too."""
    public = key.public_key()
    signed = {
        **receipt,
        "signer": {
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(raw_public(public)).decode(),
            "fingerprint": fingerprint(public),
            "origin": origin,
        },
    }
    signature = key.sign(canonical(signed))
    return render({"receipt": signed, "signature": base64.b64encode(signature).decode()})


@dataclass(frozen=True)
class Verified:
    """A receipt whose signature holds. `signer_checked`: the caller's public key matched the signer's."""

    receipt: dict[str, Any]
    fingerprint: str
    origin: str
    signer_checked: bool


def verify_receipt(data: bytes, *, public_key: Ed25519PublicKey | None = None) -> Verified:
    """Check a receipt file byte for byte: its shape, its signature, its rendering, and (if given) its signer.

    Raises ReceiptError naming what failed. Without `public_key` only integrity is proved (the receipt
    carries its own public key); with it, also that the holder of that key signed it.
    """
    document = _parse(data)
    receipt, signer = document["receipt"], document["receipt"]["signer"]
    embedded = Ed25519PublicKey.from_public_bytes(_strict_b64(signer.get("public_key"), "public key", 32))
    signature = _strict_b64(document["signature"], "signature", 64)
    try:
        embedded.verify(signature, canonical(receipt))
    except InvalidSignature:
        raise ReceiptError("the signature does not match the receipt: it was changed after it was signed") from None
    if render(document) != data:
        raise ReceiptError(
            "the file is not byte for byte as it was signed (its formatting or escaping was changed)",
            hint="Ask for the original file; an editor or a copy through a chat tool may have changed it.",
        )
    if signer.get("fingerprint") != fingerprint(embedded):
        raise ReceiptError("the receipt's signer fingerprint does not belong to its public key")
    if public_key is not None and raw_public(public_key) != raw_public(embedded):
        raise ReceiptError(
            f"the receipt was signed by {fingerprint(embedded)}, not by the key you gave ({fingerprint(public_key)})",
            hint="Check that you have the right public key; a receipt signed by another key proves nothing about "
            "who made it.",
        )
    return Verified(receipt, fingerprint(embedded), str(signer.get("origin")), public_key is not None)


def _parse(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ReceiptError("the file is not a receipt: not ASCII JSON (it was damaged or is another file)") from None
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        raise ReceiptError("the file is not a receipt: expected exactly the keys `receipt` and `signature`")
    receipt = document["receipt"]
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        raise ReceiptError(f"the file is not a receipt of format {RECEIPT_FORMAT}")
    signer = receipt.get("signer")
    if not isinstance(signer, dict) or signer.get("algorithm") != "Ed25519":
        raise ReceiptError("the receipt names no Ed25519 signer")
    return document


def _strict_b64(value: object, what: str, size: int) -> bytes:
    """Decode base64 that must be in its one canonical spelling (so no character can change unnoticed)."""
    try:
        return strict_b64(value, f"the receipt's {what}", size)
    except ValueError as exc:
        raise ReceiptError(str(exc)) from None
