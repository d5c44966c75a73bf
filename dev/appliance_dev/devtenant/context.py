"""What every dev-tenant handler shares: the directory, the signing keys, the fault rules, the clock,
and the real host names the tenant answers for (the appliance reaches them through its transport mapping).

Signing keys roll over as Microsoft's do: a new key is added to the published key set and signs from
then on, while tokens signed with an earlier key stay valid until they expire (MicrosoftDocs/bot-docs,
articles/rest-api/bot-framework-rest-connector-authentication.md: "new keys may be added at any time").
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from appliance_dev.devtenant.clock import AuditLatency, TenantClock
from appliance_dev.devtenant.faults import FaultRules
from appliance_dev.devtenant.state import TenantState

LOGIN_HOST = "https://login.microsoftonline.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
TOKEN_LIFETIME = 3600
PAGE_SIZE = 100
"""Graph's default page size for directory collections (users, groups, memberOf): 100 objects."""


def _kid(key: rsa.RSAPrivateKey) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(public).hexdigest()[:16]


@dataclass
class DevTenantContext:
    """Shared state of one running dev tenant."""

    state: TenantState
    signing_key: rsa.RSAPrivateKey
    faults: FaultRules = field(default_factory=FaultRules)
    token_lifetime: int = TOKEN_LIFETIME
    ca_cert: Path | None = None
    clock: TenantClock = field(default_factory=TenantClock)
    audit_latency: AuditLatency = field(default_factory=AuditLatency)
    page_size: int = PAGE_SIZE
    earlier_keys: list[rsa.RSAPrivateKey] = field(default_factory=list)
    writes: list[dict[str, str]] = field(default_factory=list)
    correlation_is_client_request_id: bool = True
    """Whether a directory audit entry's correlationId echoes the caller's client-request-id. Observed, but not
    documented by Microsoft (docs/GRAPH.md): tests turn it off to prove the documented second match."""
    """Every non-GET Graph request that reached a handler: method, path, client-request-id (tests count them)."""

    @property
    def kid(self) -> str:
        """The key id of the current signing key."""
        return _kid(self.signing_key)

    def rotate_signing_key(self) -> str:
        """Roll the signing key over: a new key signs from now on, the old one stays published. Returns its kid."""
        self.earlier_keys.append(self.signing_key)
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.kid

    def public_key(self, kid: str | None) -> rsa.RSAPublicKey | None:
        """The published key with this key id (current or earlier), or None."""
        for key in [self.signing_key, *self.earlier_keys]:
            if kid is None or _kid(key) == kid:
                return key.public_key()
        return None

    def jwks(self) -> list[dict[str, Any]]:
        """Every published signing key as a JWK, the current one first."""
        return [_jwk(key) for key in [self.signing_key, *self.earlier_keys]]

    def jwk(self) -> dict[str, Any]:
        """The current public signing key as a JWK."""
        return _jwk(self.signing_key)

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWT with this tenant's key id."""
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.kid})

    def access_token(self, user: dict[str, Any], client_id: str, scopes: list[str]) -> str:
        """A Graph access token for `user` carrying `scp`, `oid`, `upn`, `tid`."""
        now = int(time.time())
        return self.sign(
            {
                "aud": GRAPH_AUDIENCE,
                "iss": f"https://sts.windows.net/{self.state.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + self.token_lifetime,
                "appid": client_id,
                "oid": user["id"],
                "upn": user["userPrincipalName"],
                "tid": self.state.tenant_id,
                "scp": " ".join(scopes),
                "uti": uuid.uuid4().hex,
            }
        )

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a token signed by any published key for `audience`; raises jwt.InvalidTokenError otherwise."""
        key = self.public_key(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            raise jwt.InvalidTokenError("the token's signing key is not published")
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=audience)
        return claims

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """Claims of a valid Graph token; raises jwt.InvalidTokenError otherwise."""
        return self.verify(token, GRAPH_AUDIENCE)


def _jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "RSA", "use": "sig", "kid": _kid(key), "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}


CONTEXT_KEY: web.AppKey[DevTenantContext] = web.AppKey("devtenant", DevTenantContext)
