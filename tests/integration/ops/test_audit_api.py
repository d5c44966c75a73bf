"""The direct audit API of a real `serve --dev`, called with real access tokens from the dev tenant's
token endpoint (client credentials): no token, a wrong role, a wrong tenant, a wrong audience are
refused (401/403); a reviewer app reads JSON Lines pages with filters and the chain check."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from appliance_dev.dev_stack import DevStack
from appliance_dev.devtenant.entra_api import register_api
from appliance_dev.devtenant.entra_apps import register_client
from appliance_dev.devtenant.teams_client import DevTeamsClient

API, OTHER_API = "api://aidizen-audit", "api://someone-else"
ROLE = "AuditRecords.Read.All"
FOREIGN_TENANT = "0f4e5a3c-1111-4e2a-9d6b-0123456789ab"


@pytest.fixture(scope="module")
def apps(stack: DevStack) -> dict[str, str]:
    """Register the API and four client apps with the dev tenant; returns their secrets by client id."""
    assert stack.tenant is not None
    ctx = stack.tenant.context
    register_api(ctx, "aidizen-audit-api", API, scopes=[], app_roles=[ROLE])
    register_api(ctx, "someone-else-api", OTHER_API, scopes=[], app_roles=[ROLE])
    clients = {"reviewer-app": {API: [ROLE]}, "no-role-app": {API: []}, "other-api-app": {OTHER_API: [ROLE]}}
    secrets = {}
    for client_id, granted in clients.items():
        secrets[client_id] = f"{client_id}-secret"
        register_client(ctx, client_id, secrets[client_id], granted)
    secrets["foreign-app"] = "foreign-secret"
    register_client(ctx, "foreign-app", "foreign-secret", {API: [ROLE]}, home_tenant=FOREIGN_TENANT)
    return secrets


@pytest.fixture(scope="module")
def http(stack: DevStack) -> Iterator[httpx.Client]:
    assert stack.tenant is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=str(stack.tenant.keys.ca_cert)), timeout=15.0) as c:
        yield c


def token(stack: DevStack, http: httpx.Client, apps: dict[str, str], client_id: str, resource: str = API) -> str:
    """A real access token from the dev tenant's v2.0 token endpoint (client credentials grant)."""
    assert stack.tenant is not None
    response = http.post(f"{stack.tenant.url}/contoso.onmicrosoft.com/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": apps[client_id],
        "scope": f"{resource}/.default"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def api(stack: DevStack, http: httpx.Client, path: str, bearer: str | None = None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return http.get(f"https://localhost:{stack.teams_port}{path}", params=params, headers=headers)


def test_callers_without_a_valid_token_of_the_tenant_and_role_are_refused(
    stack: DevStack, http: httpx.Client, apps: dict[str, str]
) -> None:
    response = api(stack, http, "/api/audit/records")
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = api(stack, http, "/api/audit/verify", "not-a-jwt")
    assert response.status_code == 401 and response.json()["error"]["code"] == "malformed_token"
    response = api(stack, http, "/api/audit/records", token(stack, http, apps, "no-role-app"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_role"
    response = api(stack, http, "/api/audit/records", token(stack, http, apps, "foreign-app"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "wrong_tenant"
    response = api(stack, http, "/api/audit/records", token(stack, http, apps, "other-api-app", OTHER_API))
    assert response.status_code == 401 and response.json()["error"]["code"] == "wrong_audience"
    forged = token(stack, http, apps, "reviewer-app")
    head, body, signature = forged.split(".")
    tampered = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    response = api(stack, http, "/api/audit/records", tampered)
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_signature"


def test_a_reviewer_pages_through_filtered_records_and_verifies_the_chain(
    stack: DevStack, teams: DevTeamsClient, http: httpx.Client, apps: dict[str, str]
) -> None:
    for upn in ("mike.chan@contoso.com", "priya.n@contoso.com", "mike.chan@contoso.com"):
        teams.ask(upn, "Disable doug@contoso.com")  # not requesters: each leaves a refusal record
    bearer = token(stack, http, apps, "reviewer-app")
    response = api(stack, http, "/api/audit/records", bearer, limit="1")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/x-ndjson")
    pages = [json.loads(line) for line in response.text.splitlines()]
    assert len(pages) == 1 and "X-Next-After" in response.headers and 'rel="next"' in response.headers["Link"]
    seen = list(pages)
    cursor = response.headers.get("X-Next-After")
    while cursor:
        response = api(stack, http, "/api/audit/records", bearer, limit="2", after=cursor)
        assert response.status_code == 200
        seen += [json.loads(line) for line in response.text.splitlines()]
        cursor = response.headers.get("X-Next-After")
    assert [r["Seq"] for r in seen] == sorted({r["Seq"] for r in seen})
    refused = api(stack, http, "/api/audit/records", bearer, outcome="Refused", requester="MIKE.CHAN@contoso.com")
    records = [json.loads(line) for line in refused.text.splitlines()]
    assert records and all(r["Outcome"] == "Refused" and r["RequestedBy"] == "mike.chan@contoso.com" for r in records)
    assert any(r["Reason"] == "not_a_requester" for r in records)
    assert len(records) < len(seen)
    verify = api(stack, http, "/api/audit/verify", bearer)
    assert verify.status_code == 200 and verify.json()["ok"] is True and verify.json()["checked"] >= len(seen)


def test_bad_parameters_get_a_400_that_names_them(stack: DevStack, http: httpx.Client, apps: dict[str, str]) -> None:
    bearer = token(stack, http, apps, "reviewer-app")
    for params, named in (({"since": "yesterday"}, "since"), ({"limit": "0"}, "limit"), ({"outcome": "Maybe"},
                          "outcome"), ({"colour": "blue"}, "colour")):
        response = api(stack, http, "/api/audit/records", bearer, **params)
        assert response.status_code == 400 and named in response.json()["error"]["message"], params
