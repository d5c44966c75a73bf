"""Signing and verifying a release: `{image digest, SBOM sha256, version}` signed with Ed25519.

The vendor signs with a private key kept offline (`appliance release keygen` makes one, PEM, 0600);
anyone verifies with the public key alone. The signed statement is canonical JSON (sorted keys, no
whitespace), so the same release always yields the same bytes. The SBOM is bound by its sha256: a
changed SBOM (one component added, a version edited) no longer matches the signed statement and is
refused. The same artifacts can be signed with Sigstore's cosign instead (docs/RELEASE.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.errors import ApplianceError

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
FORMAT = "aidizen-release-signature-v1"


class SignatureError(ApplianceError):
    """A release signature is missing, malformed or does not verify."""

    hint = "Do not deploy these artifacts. Get the image digest, SBOM and signature again from the vendor."


@dataclass(frozen=True)
class ReleaseStatement:
    """What the vendor vouches for: this image digest, with this SBOM (by sha256), as this version."""

    image_digest: str
    sbom_sha256: str
    version: str

    def canonical(self) -> bytes:
        """The exact bytes that are signed."""
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True, separators=(",", ":")).encode()


def sbom_digest(sbom: Path) -> str:
    """sha256 (hex) of the SBOM file's bytes."""
    return hashlib.sha256(sbom.read_bytes()).hexdigest()


def statement_for(image_digest: str, sbom: Path, version: str) -> ReleaseStatement:
    """The statement of a release; refuses a digest that is not `sha256:<64 hex>`."""
    if not DIGEST.match(image_digest):
        raise SignatureError(f"image digest {image_digest!r} is not sha256:<64 hex digits>",
                             hint="Use the digest the registry reports (docker buildx imagetools inspect).")
    return ReleaseStatement(image_digest, sbom_digest(sbom), version)


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """A new Ed25519 key pair: private key PEM (mode 0600, never overwritten), public key PEM."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def sign_release(statement: ReleaseStatement, private_key: Path) -> dict[str, str]:
    """The signature document (JSON-ready) of `statement` under the vendor's private key."""
    key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{private_key} is not an Ed25519 private key", hint="Use `appliance release keygen`.")
    signature = key.sign(statement.canonical())
    return {**asdict(statement), "format": FORMAT, "algorithm": "Ed25519",
            "signature": base64.b64encode(signature).decode()}


def verify_release(document: dict[str, str], public_key: Path, *, image_digest: str, sbom: Path) -> ReleaseStatement:
    """Check `document` against the public key, the image digest being deployed and the SBOM file at hand.
    Returns the verified statement; raises SignatureError naming what does not match."""
    key = serialization.load_pem_public_key(public_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{public_key} is not an Ed25519 public key")
    try:
        statement = ReleaseStatement(document["image_digest"], document["sbom_sha256"], document["version"])
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise SignatureError("the signature file is not a release signature") from None
    if document.get("format") != FORMAT or document.get("algorithm") != "Ed25519":
        raise SignatureError("the signature file is not an aidizen Ed25519 release signature")
    try:
        key.verify(signature, statement.canonical())
    except InvalidSignature:
        raise SignatureError("the signature does not verify with this public key (altered, or another key)") from None
    if statement.image_digest != image_digest:
        raise SignatureError(f"the signature is for image {statement.image_digest}, not {image_digest}")
    if statement.sbom_sha256 != sbom_digest(sbom):
        raise SignatureError(f"the SBOM {sbom} is not the one that was signed (its sha256 differs)")
    return statement
