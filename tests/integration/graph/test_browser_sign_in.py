"""`appliance init --sign-in --browser`: authorization code + PKCE through real msal against the dev
tenant's authorize and token endpoints, redirected to a localhost listener; the code is bound to its
verifier and redirect URI (v2-oauth2-auth-code-flow.md), so a stolen code alone is useless."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from appliance.cli.doctor_cmd import check_identity
from appliance.cli.main import cli
from appliance.config import load_settings
from appliance_dev.dev_stack import DevStack


def browser_for(stack: DevStack, seen: list[str]) -> object:
    """A stand-in for the person's browser: follows the authorize URL (the real login host is the dev
    tenant here) and then the redirect to the appliance's localhost listener."""
    assert stack.tenant is not None
    tls = ssl.create_default_context(cafile=str(stack.tenant.keys.ca_cert))

    def open_url(url: str) -> bool:
        def run() -> None:
            seen.append(url)
            at_tenant = stack.tenant.url + url.split("login.microsoftonline.com", 1)[1]  # type: ignore[union-attr]
            redirect = httpx.get(at_tenant, verify=tls, follow_redirects=False, timeout=10.0)
            assert redirect.status_code == 302, redirect.text
            seen.append(redirect.headers["Location"])
            httpx.get(redirect.headers["Location"], timeout=10.0)

        threading.Thread(target=run, daemon=True).start()
        return True

    return open_url


def test_init_sign_in_browser_uses_auth_code_with_pkce(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    with DevStack(home, qualify=False) as stack:  # sign-in only: the model is never asked
        monkeypatch.setenv("APPLIANCE_HOME", str(home))
        seen: list[str] = []
        monkeypatch.setattr("webbrowser.open", browser_for(stack, seen))
        result = CliRunner().invoke(cli, ["init", "--sign-in", "--browser"])
        assert result.exit_code == 0, result.output
        assert "signed in as aid@contoso.com (authorization code + PKCE)" in result.output
        query = parse_qs(urlsplit(seen[0]).query)
        assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"][0].startswith("http://localhost:") and query["state"]
        assert seen[1].startswith(query["redirect_uri"][0]) and "code=" in seen[1]
        assert check_identity(load_settings(home)).startswith("token valid")  # doctor's identity check


def test_a_code_is_bound_to_its_verifier_and_a_remote_redirect_is_refused(tmp_path: Path) -> None:
    with DevStack(tmp_path / "home", qualify=False) as stack:
        assert stack.tenant is not None
        tls = ssl.create_default_context(cafile=str(stack.tenant.keys.ca_cert))
        base = f"{stack.tenant.url}/contoso.onmicrosoft.com/oauth2/v2.0"
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        params = {"client_id": "aidizen-admin", "response_type": "code", "scope": "User.Read.All",
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        remote = httpx.get(f"{base}/authorize", params={**params, "redirect_uri": "https://evil.example/cb"},
                           verify=tls)
        assert remote.status_code == 400 and "AADSTS50011" in remote.text
        plain = httpx.get(f"{base}/authorize", params={**params, "redirect_uri": "http://localhost:9/x",
                                                      "code_challenge_method": "plain"}, verify=tls)
        assert plain.status_code == 400 and "AADSTS9002325" in plain.text
        issued = httpx.get(f"{base}/authorize", params={**params, "redirect_uri": "http://localhost:9/x"}, verify=tls)
        code = parse_qs(urlsplit(issued.headers["Location"]).query)["code"][0]
        stolen = httpx.post(f"{base}/token", data={"grant_type": "authorization_code", "client_id": "aidizen-admin",
                                                   "code": code, "redirect_uri": "http://localhost:9/x",
                                                   "code_verifier": "w" * 50}, verify=tls)
        assert stolen.status_code == 400 and "AADSTS501481" in stolen.text
        again = httpx.post(f"{base}/token", data={"grant_type": "authorization_code", "client_id": "aidizen-admin",
                                                  "code": code, "redirect_uri": "http://localhost:9/x",
                                                  "code_verifier": verifier}, verify=tls)
        assert again.status_code == 400 and "AADSTS70008" in again.text  # one try: the code was spent
