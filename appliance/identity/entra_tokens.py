"""`EntraTokenValidator`: is this bearer token an Entra access token for US, from OUR tenant, with a
role or scope we require? One module, reused by every inbound API (audit API, MCP server).

Usage::

    policy = EntraTokenPolicy(tenant_id="<tenant GUID>", audiences=("api://aidizen-audit", "<api app id>"),
                              roles=frozenset({"AuditRecords.Read.All"}))
    validator = EntraTokenValidator(policy, fetch_json)      # fetch_json: async (url) -> dict, egress-guarded
    principal = await validator.validate(request.headers.get("Authorization"))   # or raises TokenRejected
    principal.object_id, principal.app_id, principal.roles, principal.kind ("user" | "app")

What is checked (Microsoft: MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md
and access-tokens.md, "Validate tokens"):
- the header: `alg` RS256 only (no `none`, no HMAC), and a `kid` found in the tenant's JWKS
  (`{authority}/{tenant}/discovery/v2.0/keys`; cached, refetched at most once a minute for an unknown kid,
  which is how Entra's key rollover shows up);
- the signature with that key; `exp` and `nbf` (with `leeway_seconds`);
- `iss`: exactly the v1.0 issuer `https://sts.windows.net/{tenant}/` or the v2.0 issuer
  `{authority}/{tenant}/v2.0` of the configured tenant, and `tid` the same tenant (Entra signs every
  tenant's tokens with the same keys, so this is THE tenant check);
- `aud`: one of `audiences` (v1.0 tokens carry the App ID URI that was requested, v2.0 tokens the API's
  client id: configure both);
- authorization: at least one of `roles` in the `roles` claim (app roles: assigned to a user, or granted
  to an application by an admin) or one of `scopes` in `scp` (delegated).
Failures raise `TokenRejected` with `status` 401 (no or invalid token: authenticate again) or 403 (valid
token without the role), a stable `reason` code and a message that never repeats the token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

FetchJson = Callable[[str], Awaitable[Mapping[str, Any]]]
LOGIN = "https://login.microsoftonline.com"
REFETCH_SECONDS = 60.0
KEYS_TTL_SECONDS = 24 * 3600.0


class TokenRejected(Exception):
    """The request's token is not acceptable. `status`: 401 or 403; `reason`: a stable code."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    @property
    def www_authenticate(self) -> str:
        """The `WWW-Authenticate` header value for a 401 (RFC 6750)."""
        error = "invalid_token" if self.reason != "missing_token" else "invalid_request"
        return f'Bearer error="{error}", error_description="{self.reason}"'


@dataclass(frozen=True)
class EntraTokenPolicy:
    """What a token must be: issued by `tenant_id` (a GUID) for one of `audiences`, holding one of
    `roles` (app roles) or one of `scopes` (delegated). Both empty: any valid token of the tenant passes."""

    tenant_id: str
    audiences: tuple[str, ...]
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    authority_host: str = LOGIN
    leeway_seconds: int = 60

    @property
    def issuers(self) -> tuple[str, str]:
        """The v1.0 and v2.0 issuers of the tenant."""
        return f"https://sts.windows.net/{self.tenant_id}/", f"{self.authority_host.rstrip('/')}/{self.tenant_id}/v2.0"

    @property
    def jwks_url(self) -> str:
        """Where the tenant publishes its token-signing keys."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}/discovery/v2.0/keys"


@dataclass(frozen=True)
class EntraPrincipal:
    """Who called: `kind` "app" (client credentials) or "user" (delegated), with the claims used to decide."""

    object_id: str
    tenant_id: str
    app_id: str
    kind: str
    roles: frozenset[str]
    scopes: frozenset[str]
    upn: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; TokenRejected(401) if there is none."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected(401, "missing_token", "Send an Entra access token as `Authorization: Bearer <token>`.")
    return token.strip()


class EntraTokenValidator:
    """Validates access tokens against one `EntraTokenPolicy`; keys come from `fetch_json(policy.jwks_url)`."""

    def __init__(self, policy: EntraTokenPolicy, fetch_json: FetchJson, clock: Callable[[], float] = time.time) -> None:
        if not policy.tenant_id or not policy.audiences:
            raise ValueError("an Entra token policy needs the tenant id and at least one audience")
        self.policy, self._fetch, self._clock = policy, fetch_json, clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def validate(self, authorization: str | None) -> EntraPrincipal:
        """The caller behind an `Authorization` header value (or a bare token); raises TokenRejected."""
        raw = authorization or ""
        token = bearer_token(raw) if " " in raw.strip() or not raw.strip() else raw.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenRejected(401, "malformed_token", "The bearer token is not a JWT.") from None
        if header.get("alg") != "RS256":
            raise TokenRejected(401, "bad_algorithm", "Only RS256-signed Entra tokens are accepted.")
        key = await self._key(str(header.get("kid", "")))
        claims = self._decode(token, key)
        return self._authorize(claims)

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        policy = self.policy
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["RS256"], audience=list(policy.audiences), leeway=policy.leeway_seconds,
                options={"require": ["exp", "nbf", "iss", "aud", "tid"], "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected(401, "expired", "The token has expired; get a new one.") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected(401, "not_yet_valid", "The token is not valid yet (nbf); check the clocks.") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected(401, "wrong_audience", "The token was issued for another API (aud).") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected(401, "bad_signature", "The token's signature does not verify.") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(401, "invalid_token", f"The token is not valid: {type(exc).__name__}.") from None
        if claims.get("iss") not in policy.issuers or claims.get("tid") != policy.tenant_id:
            raise TokenRejected(401, "wrong_tenant", "The token was issued by another tenant.")
        return claims

    def _authorize(self, claims: Mapping[str, Any]) -> EntraPrincipal:
        roles = frozenset(str(role) for role in claims.get("roles", []) if isinstance(role, str))
        scopes = frozenset(str(claims.get("scp", "")).split())
        kind = "user" if "scp" in claims or claims.get("idtyp") == "user" else "app"
        principal = EntraPrincipal(
            object_id=str(claims.get("oid", "")), tenant_id=str(claims["tid"]),
            app_id=str(claims.get("azp") or claims.get("appid") or ""), kind=kind, roles=roles, scopes=scopes,
            upn=str(claims.get("upn") or claims.get("preferred_username") or "") or None, claims=dict(claims),
        )
        wanted_roles, wanted_scopes = self.policy.roles, self.policy.scopes
        if (wanted_roles or wanted_scopes) and not (roles & wanted_roles or scopes & wanted_scopes):
            needed = ", ".join(sorted(wanted_roles | wanted_scopes))
            raise TokenRejected(403, "missing_role", f"The caller holds none of the required roles ({needed}); an "
                                "admin grants them in Entra (Enterprise applications > the API > Users and groups, "
                                "or API permissions for an application).")
        if not principal.object_id:
            raise TokenRejected(401, "invalid_token", "The token names no caller (oid).")
        return principal

    async def _key(self, kid: str) -> Any:
        if not kid:
            raise TokenRejected(401, "invalid_token", "The token's header names no signing key (kid).")
        now = self._clock()
        if kid in self._keys and now - self._fetched_at < KEYS_TTL_SECONDS:
            return self._keys[kid]
        async with self._lock:
            stale = kid not in self._keys or now - self._fetched_at >= KEYS_TTL_SECONDS
            if stale and (now - self._fetched_at >= REFETCH_SECONDS or not self._keys):
                await self._refresh_keys()
        if kid not in self._keys:
            raise TokenRejected(401, "unknown_key", "The token was not signed by a key of the configured tenant.")
        return self._keys[kid]

    async def _refresh_keys(self) -> None:
        try:
            document = await self._fetch(self.policy.jwks_url)
            keys = {str(jwk["kid"]): RSAAlgorithm.from_jwk(dict(jwk)) for jwk in document.get("keys", [])
                    if jwk.get("kty") == "RSA" and jwk.get("kid")}
        except Exception as exc:  # the caller gets a clean 401 with a reason, never a 500
            raise TokenRejected(401, "keys_unavailable", f"The tenant's signing keys could not be read "
                                f"({type(exc).__name__}); try again.") from None
        self._keys, self._fetched_at = keys, self._clock()
