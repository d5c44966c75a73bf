"""`EntraTokenValidator` against tokens signed here (a local RSA key published as a JWKS): the claims each
check follows are in MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from appliance.identity import EntraTokenPolicy, EntraTokenValidator, TokenRejected

TENANT = "1d291cb8-65b0-594a-ba2f-10edd1b4e564"
API = "aidizen-mcp"
POLICY = EntraTokenPolicy(tenant_id=TENANT, audiences=(f"api://{API}", API), scopes=("Aid.Request",),
                          app_roles=("Aid.Requester",))


def _b64(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


class Tenant:
    """A signing key and the JWKS document that publishes it (counting fetches)."""

    def __init__(self) -> None:
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.fetches = 0

    def jwks(self) -> dict[str, Any]:
        numbers = {kid: key.public_key().public_numbers() for kid, key in self.keys.items()}
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": _b64(n.n), "e": _b64(n.e)}
                         for kid, n in numbers.items()]}

    async def fetch(self, url: str) -> dict[str, Any]:
        assert url == f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"
        self.fetches += 1
        return self.jwks()

    def token(self, kid: str = "k1", **override: Any) -> str:
        now = int(time.time())
        claims = {"aud": API, "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "tid": TENANT,
                  "oid": "6e29aa61-898f-5b1f-97fc-0fa8c2658203", "azp": "client-app", "scp": "Aid.Request",
                  "iat": now, "nbf": now, "exp": now + 600, "ver": "2.0", "preferred_username": "doug@contoso.com"}
        claims.update(override)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def tenant() -> Tenant:
    return Tenant()


async def test_a_v2_token_for_this_api_names_the_person_and_the_client(tenant: Tenant) -> None:
    caller = await EntraTokenValidator(POLICY, tenant.fetch).validate(tenant.token())
    assert caller.object_id == "6e29aa61-898f-5b1f-97fc-0fa8c2658203" and caller.client_app_id == "client-app"
    assert caller.scopes == {"Aid.Request"} and caller.username == "doug@contoso.com"


async def test_a_v1_token_with_the_app_id_uri_and_an_app_role_is_accepted(tenant: Tenant) -> None:
    token = tenant.token(aud=f"api://{API}", iss=f"https://sts.windows.net/{TENANT}/", azp=None, appid="v1-app",
                         scp=None, roles=["Aid.Requester"], ver="1.0")
    caller = await EntraTokenValidator(POLICY, tenant.fetch).validate(token)
    assert caller.client_app_id == "v1-app" and caller.roles == {"Aid.Requester"}


@pytest.mark.parametrize(("override", "reason"), [
    ({"aud": "https://graph.microsoft.com"}, "wrong_audience"),
    ({"iss": "https://login.microsoftonline.com/another-tenant/v2.0"}, "wrong_issuer"),
    ({"tid": "another-tenant"}, "wrong_tenant"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"nbf": int(time.time()) + 3600}, "not_yet_valid"),
    ({"scp": "User.Read"}, "no_permission"),
    ({"scp": None, "roles": ["Other.Role"]}, "no_permission"),
    ({"oid": None}, "missing_claim"),
])
async def test_each_wrong_claim_is_refused(tenant: Tenant, override: dict[str, Any], reason: str) -> None:
    with pytest.raises(TokenRejected) as refused:
        await EntraTokenValidator(POLICY, tenant.fetch).validate(tenant.token(**override))
    assert refused.value.reason == reason


async def test_unsigned_forged_and_garbage_tokens_are_refused(tenant: Tenant) -> None:
    validator = EntraTokenValidator(POLICY, tenant.fetch)
    good = tenant.token()
    header, payload, _ = good.split(".")
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    public_pem = tenant.keys["k1"].public_key().public_numbers()
    cases = {
        "unsigned": f"{none_alg}.{payload}.",
        "bad_signature": f"{header}.{payload}.{'A' * 342}",
        "malformed": "not-a-token",
    }
    for reason, token in cases.items():
        with pytest.raises(TokenRejected) as refused:
            await validator.validate(token)
        assert refused.value.reason == reason, token
    hs256 = jwt.encode({"aud": API}, str(public_pem.n), algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(TokenRejected) as refused:
        await validator.validate(hs256)
    assert refused.value.reason == "unsigned"


async def test_a_key_the_tenant_never_published_is_refused_and_rolled_keys_are_fetched(tenant: Tenant) -> None:
    clock = [1000.0]
    validator = EntraTokenValidator(POLICY, tenant.fetch, clock=lambda: clock[0])
    await validator.validate(tenant.token())
    stranger = Tenant()
    with pytest.raises(TokenRejected) as refused:
        await validator.validate(stranger.token())
    assert refused.value.reason == "bad_signature"  # same kid, other key: the signature does not verify
    tenant.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    clock[0] += 61  # a key id we have not seen: fetched again, at most once a minute
    assert (await validator.validate(tenant.token(kid="k2"))).object_id
    assert tenant.fetches == 2
    stranger.keys["k9"] = stranger.keys["k1"]
    with pytest.raises(TokenRejected) as unknown:
        await validator.validate(stranger.token(kid="k9"))
    assert unknown.value.reason == "unknown_key" and tenant.fetches == 2


async def test_unreachable_keys_refuse_rather_than_accept() -> None:
    async def down(url: str) -> Any:
        raise ConnectionError("no route")

    with pytest.raises(TokenRejected) as refused:
        await EntraTokenValidator(POLICY, down).validate(Tenant().token())
    assert refused.value.reason == "keys_unavailable"


async def test_without_the_permission_requirement_a_scopeless_token_is_valid_but_not_permitted(tenant: Tenant) -> None:
    validator = EntraTokenValidator(POLICY, tenant.fetch)
    caller = await validator.validate(tenant.token(scp="User.Read"), require_permission=False)
    assert caller.permitted is False and caller.object_id
    assert (await validator.validate(tenant.token(), require_permission=False)).permitted is True
