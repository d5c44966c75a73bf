"""Signed release artifacts: the image digest and the SBOM, signed with the vendor's Ed25519 key."""

from appliance.release.signing import ReleaseStatement, SignatureError, generate_keypair, sign_release, verify_release

__all__ = ["ReleaseStatement", "SignatureError", "generate_keypair", "sign_release", "verify_release"]
