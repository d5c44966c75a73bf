"""Certificate credentials: the client assertion a confidential client sends instead of a client secret.

Emulated from MicrosoftDocs/entra-docs, docs/identity-platform/certificate-credentials.md:
- the token request carries `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
  and `client_assertion` (a JWT) where a `client_secret` would be;
- header: `alg` PS256 (RS256 with an SHA-1 `x5t` is the older form msal still documents), `x5t#S256` the
  base64url SHA-256 thumbprint of the certificate's DER (or `x5t`, the SHA-1 one);
- claims: `aud` the tenant's v2.0 token endpoint, `iss` and `sub` the client id, `exp`, `nbf`, `jti`;
- the signature is checked with the public key of a certificate uploaded to the app registration.
Errors, from docs/identity-platform/reference-error-codes.md: AADSTS700027 "Client assertion failed
signature validation" (also a thumbprint that matches no registered key), AADSTS50027 InvalidJwtToken
(unexpected audience or issuer, not within its valid time range, token format), AADSTS50048
SubjectMismatchesIssuer, AADSTS7000218 (neither `client_assertion` nor `client_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from appliance_dev.devtenant.context import LOGIN_HOST

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["PS256", "RS256"]


def thumbprints(certificate_pem: str) -> dict[str, str]:
    """The header names Entra matches a certificate by -> this certificate's value (base64url, unpadded)."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(serialization.Encoding.DER)

    def b64(digest: bytes) -> str:
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    sha1 = hashlib.sha1(der, usedforsecurity=False).digest()
    return {"x5t#S256": b64(hashlib.sha256(der).digest()), "x5t": b64(sha1)}


def assertion_error(form: Any, client_id: str, tenant: str, certificates: list[str]) -> web.Response | None:
    """None if `form` carries a valid client assertion for `client_id` signed by one of `certificates`
    (PEM), else Entra's error answer. `tenant` is the authority segment the request was sent to."""
    if str(form.get("client_assertion_type", "")) != ASSERTION_TYPE or not form.get("client_assertion"):
        return _error("invalid_request", "AADSTS7000218: The request body must contain the following parameter: "
                      "'client_assertion' or 'client_secret'.", 7000218)
    assertion = str(form["client_assertion"])
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError:
        return _error("invalid_client", "AADSTS50027: JWT token is invalid or malformed.", 50027, 401)
    certificate = _registered(header, certificates)
    if certificate is None:
        return _error("invalid_client", f"AADSTS700027: Client assertion failed signature validation. [Reason - The "
                      f"key was not found.] Thumbprint of key used by client: '{_presented(header)}'.", 700027, 401)
    public_key = x509.load_pem_x509_certificate(certificate.encode()).public_key()
    audiences = [f"{LOGIN_HOST}/{tenant}/oauth2/v2.0/token"]
    try:
        claims = jwt.decode(assertion, public_key, algorithms=ALGORITHMS, audience=audiences,  # type: ignore[arg-type]
                            options={"require": ["aud", "exp", "iss", "sub"]}, leeway=300)
    except jwt.InvalidSignatureError:
        return _error("invalid_client", "AADSTS700027: Client assertion failed signature validation.", 700027, 401)
    except jwt.ExpiredSignatureError:
        return _error("invalid_client", "AADSTS50027: JWT token is invalid: not within its valid time range "
                      f"(now {int(time.time())}).", 50027, 401)
    except jwt.InvalidAudienceError:
        return _error("invalid_client", f"AADSTS50027: JWT token is invalid: unexpected audience; expected "
                      f"{audiences[0]}.", 50027, 401)
    except jwt.InvalidTokenError as exc:
        return _error("invalid_client", f"AADSTS50027: JWT token is invalid: {exc}.", 50027, 401)
    if claims["iss"] != client_id:
        return _error("invalid_client", f"AADSTS50027: JWT token is invalid: unexpected issuer {claims['iss']!r}; "
                      f"the assertion's iss must be the client id {client_id}.", 50027, 401)
    if claims["sub"] != claims["iss"]:
        return _error("invalid_client", "AADSTS50048: Subject mismatches Issuer claim in the client assertion.",
                      50048, 401)
    return None


def _registered(header: dict[str, Any], certificates: list[str]) -> str | None:
    """The registered certificate the header's `x5t#S256` (or `x5t`) names, or None."""
    for certificate in certificates:
        prints = thumbprints(certificate)
        if any(str(header.get(name, "")).rstrip("=") == prints[name] for name in prints):  # msal pads, the page not
            return certificate
    return None


def _presented(header: dict[str, Any]) -> str:
    return str(header.get("x5t#S256") or header.get("x5t") or "(none)")


def _error(error: str, description: str, code: int, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description, "error_codes": [code],
                              "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ")}, status=status)
