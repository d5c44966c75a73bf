"""The offboarding receipt: Ed25519 signing and byte-for-byte verification (appliance/audit/receipt.py)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from appliance.audit.receipt import (
    Outcome,
    ReceiptError,
    Recorded,
    build_receipt,
    exit_code,
    fingerprint,
    load_public_key,
    load_signing_key,
    new_signing_key,
    sign_receipt,
    verify_receipt,
)

T0, T1 = "2026-05-21T10:14:05.000Z", "2026-05-21T10:14:09.000Z"


def entry(name: str, status: str, **evidence: str) -> Recorded:
    return Recorded(name, name.replace("_", " "), Outcome(status, f"{name} {status}", "", evidence), T0, T1)


def receipt(steps: list[Recorded] | None = None, checks: list[Recorded] | None = None) -> dict[str, object]:
    return build_receipt(
        subject={"tenant": "contoso.onmicrosoft.com", "aid_upn": "aid@contoso.com", "note": "Zürich ✓"},
        steps=steps if steps is not None else [entry("disable_aid", "done", client_request_id="c-1"),
                                               entry("shred_store", "already_done")],
        checks=checks if checks is not None else [entry("store_gone", "passed")],
        started_at=T0, finished_at=T1, appliance_version="0.1.0",
    )


def test_a_signed_receipt_verifies_and_carries_everything() -> None:
    key = new_signing_key()
    data = sign_receipt(receipt(), key, origin="ephemeral")
    checked = verify_receipt(data)
    assert checked.fingerprint == fingerprint(key.public_key()) and checked.origin == "ephemeral"
    assert not checked.signer_checked
    body = checked.receipt
    assert body["subject"]["note"] == "Zürich ✓"  # non-ASCII survives (escaped in the file)
    assert [s["name"] for s in body["steps"]] == ["disable_aid", "shred_store"]
    assert body["steps"][0]["evidence"] == {"client_request_id": "c-1"}
    assert body["checks"][0]["status"] == "passed" and body["exit_code"] == 0
    assert body["appliance_version"] == "0.1.0" and body["signer"]["algorithm"] == "Ed25519"
    data.decode("ascii")  # the file is plain ASCII


def test_every_single_byte_change_fails_verification() -> None:
    data = sign_receipt(receipt(), new_signing_key(), origin="ephemeral")
    for position in range(len(data)):
        for flip in (0x01, 0x20, 0x80):
            changed = bytearray(data)
            changed[position] ^= flip
            with pytest.raises(ReceiptError):
                verify_receipt(bytes(changed))


def test_truncated_extended_and_reformatted_receipts_fail() -> None:
    data = sign_receipt(receipt(), new_signing_key(), origin="ephemeral")
    same_json = json.dumps(json.loads(data), indent=1, sort_keys=True).encode()  # equal values, other bytes
    for bad in (data[:-1], data + b"\n", data + b" ", b" " + data, same_json, data.replace(b"\n", b"\r\n")):
        with pytest.raises(ReceiptError):
            verify_receipt(bad)


def test_a_receipt_re_signed_after_editing_has_another_signer() -> None:
    original = verify_receipt(sign_receipt(receipt(), new_signing_key(), origin="ephemeral"))
    forged_body = {k: v for k, v in original.receipt.items() if k != "signer"}
    forged_body["steps"] = [entry("disable_aid", "done").as_dict()]
    forged = verify_receipt(sign_receipt(forged_body, new_signing_key(), origin="ephemeral"))
    assert forged.fingerprint != original.fingerprint  # an ephemeral key proves integrity, not authorship


def test_the_operators_key_is_checked_when_given() -> None:
    key, other = new_signing_key(), new_signing_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    data = sign_receipt(receipt(), load_signing_key(pem), origin="operator")
    checked = verify_receipt(data, public_key=load_public_key(public_pem))
    assert checked.signer_checked and checked.origin == "operator"
    with pytest.raises(ReceiptError, match="not by the key you gave"):
        verify_receipt(data, public_key=other.public_key())


def test_encrypted_and_wrong_kind_keys() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = new_signing_key()
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"s3cret"))
    assert fingerprint(load_signing_key(encrypted, b"s3cret").public_key()) == fingerprint(key.public_key())
    with pytest.raises(ReceiptError, match="not a usable PEM"):
        load_signing_key(encrypted, None)
    with pytest.raises(ReceiptError, match="not a usable PEM"):
        load_signing_key(b"not a key")
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ReceiptError, match="not an Ed25519 key"):
        load_signing_key(p256)


def test_exit_code_and_status_validation() -> None:
    assert exit_code([entry("a", "done"), entry("b", "passed"), entry("c", "skipped")]) == 0
    assert exit_code([entry("a", "done"), entry("b", "needs_admin")]) == 3
    assert exit_code([entry("a", "needs_admin"), entry("b", "failed")]) == 1
    with pytest.raises(ValueError, match="not one of"):
        receipt(steps=[entry("disable_aid", "passed")])  # a check status on a step
    with pytest.raises(ValueError, match="not one of"):
        receipt(checks=[entry("store_gone", "done")])


def test_not_a_receipt() -> None:
    key = new_signing_key()
    for bad in (b"", b"{}", b"[]", "é".encode(), json.dumps({"receipt": {}, "signature": ""}).encode()):
        with pytest.raises(ReceiptError):
            verify_receipt(bad)
    data = sign_receipt({"format": "something-else/1"}, key, origin="ephemeral")
    with pytest.raises(ReceiptError, match="format"):
        verify_receipt(data)
