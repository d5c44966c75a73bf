"""What every dev-tenant handler shares: the directory, the signing key, the fault rules, and the
real host names the tenant answers for (the appliance reaches them through its transport mapping)."""

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

from appliance_dev.devtenant.faults import FaultRules
from appliance_dev.devtenant.state import TenantState

LOGIN_HOST = "https://login.microsoftonline.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
TOKEN_LIFETIME = 3600


@dataclass
class DevTenantContext:
    """Shared state of one running dev tenant."""

    state: TenantState
    signing_key: rsa.RSAPrivateKey
    faults: FaultRules = field(default_factory=FaultRules)
    token_lifetime: int = TOKEN_LIFETIME
    ca_cert: Path | None = None

    @property
    def kid(self) -> str:
        public = self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(public).hexdigest()[:16]

    def jwk(self) -> dict[str, Any]:
        """The public signing key as a JWK."""
        numbers = self.signing_key.public_key().public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"kty": "RSA", "use": "sig", "kid": self.kid, "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}

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

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """Claims of a valid Graph token; raises jwt.InvalidTokenError otherwise."""
        claims: dict[str, Any] = jwt.decode(
            token, self.signing_key.public_key(), algorithms=["RS256"], audience=GRAPH_AUDIENCE
        )
        return claims


CONTEXT_KEY: web.AppKey[DevTenantContext] = web.AppKey("devtenant", DevTenantContext)
