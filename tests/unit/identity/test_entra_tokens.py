"""EntraTokenValidator against tokens signed here (the integration test uses the dev tenant's): every
rejection has its status and reason, keys are refetched for a new kid but not more than once a minute."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from appliance.identity import EntraTokenPolicy, EntraTokenValidator, TokenRejected

TENANT = "11111111-2222-3333-4444-555555555555"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
POLICY = EntraTokenPolicy(tenant_id=TENANT, audiences=("api://aidizen-audit", "api-client-id"),
                          roles=frozenset({"AuditRecords.Read.All"}))


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64(numbers.n), "e": b64(numbers.e)}


class Keys:
    def __init__(self) -> None:
        self.keys = [jwk(KEY, "k1")]
        self.fetches = 0

    async def __call__(self, url: str) -> dict[str, Any]:
        assert url == f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"
        self.fetches += 1
        return {"keys": list(self.keys)}


def token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"aud": "api://aidizen-audit", "iss": f"https://sts.windows.net/{TENANT}/", "tid": TENANT, "iat": now,
            "nbf": now, "exp": now + 600, "oid": "sp-oid", "appid": "reviewer-app", "roles": ["AuditRecords.Read.All"],
            **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg, headers={"kid": kid})


async def reason(validator: EntraTokenValidator, bearer: str | None) -> tuple[int, str]:
    with pytest.raises(TokenRejected) as caught:
        await validator.validate(bearer)
    return caught.value.status, caught.value.reason


async def test_valid_v1_and_v2_tokens_of_the_tenant_pass() -> None:
    validator = EntraTokenValidator(POLICY, Keys())
    app = await validator.validate("Bearer " + token())
    assert app.kind == "app" and app.app_id == "reviewer-app" and app.roles == {"AuditRecords.Read.All"}
    v2 = await validator.validate(token(aud="api-client-id", iss=f"https://login.microsoftonline.com/{TENANT}/v2.0",
                                        azp="reviewer-app", appid=None))
    assert v2.app_id == "reviewer-app"
    scoped = EntraTokenValidator(EntraTokenPolicy(TENANT, ("api://aidizen-audit",), scopes=frozenset({"Audit.Read"})),
                                 Keys())
    user = await scoped.validate(token(roles=None, scp="Audit.Read", upn="rev@contoso.com"))
    assert user.kind == "user" and user.upn == "rev@contoso.com"


async def test_every_rejection_has_its_status_and_reason() -> None:
    validator = EntraTokenValidator(POLICY, Keys())
    now = int(time.time())
    cases = {
        None: (401, "missing_token"),
        "Basic abc": (401, "missing_token"),
        "Bearer nonsense": (401, "malformed_token"),
        token(alg="HS256", key="x" * 32): (401, "bad_algorithm"),  # type: ignore[arg-type]
        token(exp=now - 3600, iat=now - 7200, nbf=now - 7200): (401, "expired"),
        token(nbf=now + 3600): (401, "not_yet_valid"),
        token(aud="api://someone-else"): (401, "wrong_audience"),
        token(iss="https://sts.windows.net/99999999-0000-0000-0000-000000000000/"): (401, "wrong_tenant"),
        token(tid="99999999-0000-0000-0000-000000000000"): (401, "wrong_tenant"),
        token(key=OTHER_KEY): (401, "bad_signature"),
        token(kid="k-unknown"): (401, "unknown_key"),
        token(roles=["Something.Else"]): (403, "missing_role"),
        token(oid=None): (401, "invalid_token"),
    }
    for bearer, expected in cases.items():
        header = bearer if bearer is None or " " in bearer else "Bearer " + bearer
        assert await reason(validator, header) == expected, expected
    unsigned = jwt.encode({"aud": "api://aidizen-audit"}, key=None, algorithm="none")  # type: ignore[arg-type]
    assert await reason(validator, "Bearer " + unsigned) == (401, "bad_algorithm")


async def test_a_new_key_is_fetched_once_and_unknown_kids_do_not_hammer_entra() -> None:
    keys = Keys()
    validator = EntraTokenValidator(POLICY, keys)
    await validator.validate(token())
    for _ in range(5):
        await reason(validator, "Bearer " + token(kid="k-unknown"))
    assert keys.fetches == 1  # within a minute of the last fetch: no refetch for an unknown kid
    keys.keys.append(jwk(OTHER_KEY, "k2"))  # Entra rolls its keys
    validator._fetched_at -= 120
    assert (await validator.validate(token(key=OTHER_KEY, kid="k2"))).object_id == "sp-oid"
    assert keys.fetches == 2


async def test_unreachable_keys_are_a_401_not_a_crash() -> None:
    async def broken(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    assert await reason(EntraTokenValidator(POLICY, broken), "Bearer " + token()) == (401, "keys_unavailable")
