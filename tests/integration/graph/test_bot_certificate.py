"""The bot's certificate credential end to end: real msal builds the PS256 client assertion from the PEM
sealed form, the dev tenant's Entra verifies it against the uploaded certificate (MicrosoftDocs/entra-docs
docs/identity-platform/certificate-credentials.md), and a certificate that was never uploaded is refused
with AADSTS700027 (reference-error-codes.md)."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest

from appliance.egress.allowlist import Allowlist
from appliance.egress.httpx_transport import GuardedTransport, tls_context
from appliance.graph.bot_certificate import parse_bot_certificate
from appliance.graph.bot_tokens import BotTokenSource
from appliance.graph.errors import GraphAuthError
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.certificates import self_signed

LOGIN = "https://login.microsoftonline.com"


def _source(tenant: DevTenant, app_id: str, credential: str | dict[str, str]) -> BotTokenSource:
    client = httpx.Client(transport=GuardedTransport(Allowlist([LOGIN]), host_map={
        "login.microsoftonline.com": (tenant.host, tenant.port)}, verify=tls_context(str(tenant.keys.ca_cert))),
        timeout=10.0)
    return BotTokenSource(app_id=app_id, credential=credential, authority=f"{LOGIN}/{tenant.context.state.tenant_id}",
                          http_client=client, validate_authority=False)


def test_msal_gets_the_bot_token_with_the_uploaded_certificate_and_not_with_another(tenant: DevTenant) -> None:
    app_id = str(uuid.uuid4())
    uploaded, stranger = self_signed(days=60), self_signed(days=60, name="never-uploaded")
    tenant.register_bot(app_id, "the-bot-client-secret-0123", "https://127.0.0.1:9/api/messages")
    tenant.register_bot_certificate(app_id, uploaded.cert_pem.decode())

    sealed = parse_bot_certificate(uploaded.pem).sealed_form()  # what the store holds, read back as serve does
    source = _source(tenant, app_id, parse_bot_certificate(sealed.encode()).msal_credential())
    claims = jwt.decode(source.token(), options={"verify_signature": False})
    assert claims["appid"] == app_id and claims["aud"] == "https://api.botframework.com"

    wrong = _source(tenant, app_id, parse_bot_certificate(stranger.pem).msal_credential())
    with pytest.raises(GraphAuthError, match="AADSTS700027") as refused:
        wrong.token()
    assert "appliance teams certificate show" in str(refused.value.hint)


def test_the_client_secret_path_is_unchanged_beside_a_certificate(tenant: DevTenant) -> None:
    app_id = str(uuid.uuid4())
    tenant.register_bot(app_id, "the-bot-client-secret-0123", "https://127.0.0.1:9/api/messages")
    tenant.register_bot_certificate(app_id, self_signed(days=60).cert_pem.decode())
    assert jwt.decode(_source(tenant, app_id, "the-bot-client-secret-0123").token(),
                      options={"verify_signature": False})["appid"] == app_id
    with pytest.raises(GraphAuthError, match="AADSTS7000215") as refused:
        _source(tenant, app_id, "not-the-bot-client-secret").token()
    assert "appliance teams secret" in str(refused.value.hint)
