"""Certificate credentials at the dev tenant's token endpoint, pinned to MicrosoftDocs/entra-docs
docs/identity-platform/certificate-credentials.md (assertion format) and reference-error-codes.md (errors)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.entra_assertion import ASSERTION_TYPE, thumbprints
from appliance_dev.testing.certificates import TestCertificate, self_signed
from tests.fidelity.conftest import entra

TENANT = "contoso.onmicrosoft.com"
AUDIENCE = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
SCOPE = "https://api.botframework.com/.default"


@pytest.fixture(scope="module")
def registered() -> TestCertificate:
    return self_signed(days=30)


@pytest.fixture
def bot(tenant: DevTenant, registered: TestCertificate) -> str:
    """A bot app with a client secret and the `registered` certificate uploaded."""
    app_id = str(uuid.uuid4())
    tenant.register_bot(app_id, "bot-secret-value-0123456789", "https://127.0.0.1:9/api/messages")
    tenant.register_bot_certificate(app_id, registered.cert_pem.decode())
    return app_id


def _assertion(signer: TestCertificate, app_id: str, *, named: TestCertificate | None = None,
               alg: str = "PS256", **claims: Any) -> str:
    """A client assertion as the page describes it; `named` is the certificate its header names."""
    now = int(time.time())
    body = {"aud": AUDIENCE, "iss": app_id, "sub": app_id, "jti": str(uuid.uuid4()), "nbf": now,
            "exp": now + 600, "iat": now, **claims}
    header = {"x5t#S256": thumbprints((named or signer).cert_pem.decode())["x5t#S256"]}
    return jwt.encode(body, signer.key(), algorithm=alg, headers=header)


def _token(tenant: DevTenant, app_id: str, assertion: str | None) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": "client_credentials", "client_id": app_id, "scope": SCOPE}
    if assertion is not None:
        form |= {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    with entra(tenant) as client:
        answer = client.post(f"/{TENANT}/oauth2/v2.0/token", data=form)
    return answer.status_code, answer.json()


def test_an_assertion_signed_by_the_registered_certificate_gets_a_token(tenant: DevTenant, bot: str,
                                                                       registered: TestCertificate) -> None:
    """Header alg PS256 + x5t#S256; claims aud (token endpoint), iss = sub = client id, exp, nbf, jti."""
    status, body = _token(tenant, bot, _assertion(registered, bot))
    assert status == 200 and jwt.decode(body["access_token"], options={"verify_signature": False})["appid"] == bot


def test_the_client_secret_still_works_beside_the_certificate(tenant: DevTenant, bot: str) -> None:
    """keyCredentials and passwordCredentials coexist on an app registration (certificate-credentials.md)."""
    with entra(tenant) as client:
        answer = client.post(f"/{TENANT}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": bot, "scope": SCOPE,
            "client_secret": "bot-secret-value-0123456789"})
    assert answer.status_code == 200


@pytest.mark.parametrize(("case", "code", "words"), [
    ("unregistered certificate", 700027, "failed signature validation"),
    ("signed by another key", 700027, "failed signature validation"),
    ("wrong audience", 50027, "unexpected audience"),
    ("expired", 50027, "not within its valid time range"),
    ("issuer is not the client", 50027, "unexpected issuer"),
    ("subject is not the issuer", 50048, "Subject mismatches Issuer"),
    ("no assertion", 7000218, "'client_assertion' or 'client_secret'"),
])
def test_a_wrong_assertion_is_refused_with_the_documented_code(tenant: DevTenant, bot: str,
                                                              registered: TestCertificate,
                                                              case: str, code: int, words: str) -> None:
    stranger = self_signed(days=30, name="not-uploaded")
    now = int(time.time())
    assertion = {
        "unregistered certificate": lambda: _assertion(stranger, bot),
        "signed by another key": lambda: _assertion(stranger, bot, named=registered),
        "wrong audience": lambda: _assertion(registered, bot, aud="https://login.microsoftonline.com/other/token"),
        "expired": lambda: _assertion(registered, bot, nbf=now - 7200, exp=now - 3600),
        "issuer is not the client": lambda: _assertion(registered, bot, iss="someone-else", sub="someone-else"),
        "subject is not the issuer": lambda: _assertion(registered, bot, sub="someone-else"),
        "no assertion": lambda: None,
    }[case]()
    status, body = _token(tenant, bot, assertion)
    assert status in (400, 401) and "access_token" not in body
    assert body["error_codes"] == [code] and body["error_description"].startswith(f"AADSTS{code}:")
    assert words in body["error_description"]
