"""`EntraTokenValidator`: accept an Entra access token only if it was issued for this API, in this tenant.

One validator for every inbound API the appliance serves (MCP, and any later one): RS256 signatures
checked against the tenant's published keys (JWKS, fetched through a caller-given function, so the
egress guard and the dev tenant's address mapping apply), `aud` = the API's Application ID URI or
client id, `iss` = the tenant's v1 or v2 issuer, `tid` = the configured tenant, `exp`/`nbf` with a
small leeway, and at least one of the API's delegated scopes (`scp`) or app roles (`roles`).

Source of truth for every claim checked: MicrosoftDocs/entra-docs
docs/identity-platform/access-token-claims-reference.md (`aud`: "In v2.0 tokens, this value is always
the client ID of the API. In v1.0 tokens, it can be the client ID or the resource URI used in the
request"; `iss` ends in `/v2.0` for v2 tokens; `azp` (v2) / `appid` (v1) name the client application;
`scp` is space-separated; `roles` an array; `oid` the caller's immutable object id; `tid` the tenant).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

FetchJson = Callable[[str], Awaitable[Any]]
"""GET a URL and return its JSON body (the caller's guarded HTTP client)."""

PUBLIC_CLOUD_LOGIN = "https://login.microsoftonline.com"
V1_ISSUER_HOST = "https://sts.windows.net"
ALGORITHMS = ("RS256",)


class TokenRejected(Exception):
    """The token is not accepted; `reason` is a short code (for the ops log), the message a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class EntraTokenPolicy:
    """What a token must carry to be accepted by one API."""

    tenant_id: str
    audiences: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    app_roles: tuple[str, ...] = ()
    authority_host: str = PUBLIC_CLOUD_LOGIN
    leeway_seconds: int = 60

    @property
    def issuers(self) -> tuple[str, ...]:
        """The v2 issuer of the tenant, and the v1 one (`sts.windows.net`, public cloud only)."""
        v2 = f"{self.authority_host.rstrip('/')}/{self.tenant_id}/v2.0"
        if self.authority_host.rstrip("/") == PUBLIC_CLOUD_LOGIN:
            return (v2, f"{V1_ISSUER_HOST}/{self.tenant_id}/")
        return (v2,)

    @property
    def jwks_url(self) -> str:
        """Where the tenant publishes its token-signing keys."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}/discovery/v2.0/keys"


@dataclass(frozen=True)
class EntraCaller:
    """Who a valid token speaks for: the person (`oid`), the client application, and what was granted."""

    object_id: str
    tenant_id: str
    client_app_id: str
    scopes: frozenset[str]
    roles: frozenset[str]
    username: str
    expires_at: int
    version: str
    permitted: bool = True
    claims: dict[str, Any] = field(repr=False, default_factory=dict)


class EntraTokenValidator:
    """Validates bearer tokens for one API. Keys are cached (`keys_ttl`), refetched once on an unknown key
    id (Entra rolls its keys) but at most every `refetch_seconds`."""

    def __init__(self, policy: EntraTokenPolicy, fetch_json: FetchJson, *, keys_ttl: float = 3600.0,
                 refetch_seconds: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        if not policy.tenant_id or not policy.audiences or not (policy.scopes or policy.app_roles):
            raise ValueError("an Entra token policy needs a tenant, an audience and a scope or app role")
        self.policy, self._fetch, self._clock = policy, fetch_json, clock
        self._keys_ttl, self._refetch_seconds = keys_ttl, refetch_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")

    async def validate(self, token: str, *, require_permission: bool = True) -> EntraCaller:
        """The caller of a valid token; raises `TokenRejected` for anything else. With `require_permission`
        False, a valid token without the API's scope or app role comes back with `permitted` False (so an
        API can answer 403 insufficient_scope rather than 401)."""
        if not token or token.count(".") != 2:
            raise TokenRejected("malformed", "The bearer token is not a JWT.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("malformed", "The bearer token is not a JWT.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise TokenRejected("unsigned", f"Tokens must be signed with {', '.join(ALGORITHMS)}.")
        key = await self._key(str(header.get("kid") or ""))
        claims = self._decode(token, key)
        return self._caller(claims, require_permission)

    async def _key(self, kid: str) -> Any:
        now = self._clock()
        stale = now - self._fetched_at > self._keys_ttl
        if stale or (kid not in self._keys and now - self._fetched_at > self._refetch_seconds):
            await self._refresh_keys()
        if kid not in self._keys:
            raise TokenRejected("unknown_key", "The token was not signed by one of the tenant's keys.")
        return self._keys[kid]

    async def _refresh_keys(self) -> None:
        try:
            document = await self._fetch(self.policy.jwks_url)
            keys = jwt.PyJWKSet.from_dict(document).keys
        except Exception as exc:  # unreachable Entra or a bad document: no token can be checked now
            if self._keys:
                return  # keep the keys we have; a later request tries again
            raise TokenRejected("keys_unavailable", "The tenant's signing keys cannot be fetched right now.") from exc
        self._keys = {str(k.key_id): k.key for k in keys if k.key_id}
        self._fetched_at = self._clock()

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        policy = self.policy
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=list(ALGORITHMS), audience=list(policy.audiences),
                issuer=list(policy.issuers), leeway=policy.leeway_seconds,
                options={"require": ["exp", "nbf", "iss", "aud", "tid", "oid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("expired", "The token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("not_yet_valid", "The token is not valid yet.") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("wrong_audience", "The token was issued for another API.") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("wrong_issuer", "The token was issued by another tenant or authority.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("bad_signature", "The token's signature does not verify.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected("missing_claim", f"The token lacks the `{exc.claim}` claim.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("invalid", "The token is not valid.") from exc
        return claims

    def _caller(self, claims: dict[str, Any], require_permission: bool) -> EntraCaller:
        policy = self.policy
        if str(claims.get("tid", "")).casefold() != policy.tenant_id.casefold():
            raise TokenRejected("wrong_tenant", "The token comes from another tenant.")
        scopes = frozenset(str(claims.get("scp") or "").split())
        raw_roles = claims.get("roles") or []
        roles = frozenset(str(r) for r in raw_roles) if isinstance(raw_roles, list) else frozenset()
        permitted = bool(scopes & set(policy.scopes)) or bool(roles & set(policy.app_roles))
        if not permitted and require_permission:
            raise TokenRejected("no_permission", "The token carries neither the API's scope nor its app role.")
        return EntraCaller(
            object_id=str(claims["oid"]), tenant_id=str(claims["tid"]),
            client_app_id=str(claims.get("azp") or claims.get("appid") or ""), scopes=scopes, roles=roles,
            username=str(claims.get("preferred_username") or claims.get("upn") or ""), expires_at=int(claims["exp"]),
            version=str(claims.get("ver") or ""), permitted=permitted, claims=claims,
        )
