"""The Aid's own delegated identity through msal. The token cache lives in the encrypted store.

`appliance init` runs the device-code flow once (an admin signs in as the Aid and consents); after that
tokens refresh silently. msal's HTTP client is an httpx.Client on the egress transport, so msal's calls
obey the allowlist and, for the dev tenant, the host mapping (the authority URL stays the real one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import jwt
import msal

from appliance.graph.errors import GraphAuthError
from appliance.graph.sign_in_policy import REFRESH, explain_policy_block
from appliance.ports import TokenCacheStore

GRAPH_RESOURCE = "https://graph.microsoft.com"


def graph_scopes(permissions: Iterable[str]) -> list[str]:
    """`User.Read.All` -> `https://graph.microsoft.com/User.Read.All` (msal wants resource scopes)."""
    return sorted({f"{GRAPH_RESOURCE}/{p}" for p in permissions if p})


def scopes_in(claims: dict[str, Any]) -> set[str]:
    """The delegated scopes an access token's claims grant (`scp`)."""
    return set(str(claims.get("scp", "")).split())


def upn_in(claims: dict[str, Any]) -> str:
    """The signed-in user's principal name in an access token's claims."""
    return str(claims.get("upn") or claims.get("preferred_username") or "")


class AidIdentity:
    """msal PublicClientApplication for the Aid, persisting its SerializableTokenCache through the store."""

    def __init__(
        self,
        *,
        authority: str,
        client_id: str,
        permissions: Iterable[str],
        cache_store: TokenCacheStore,
        http_client: httpx.Client,
        validate_authority: bool = True,
    ) -> None:
        self.scopes = graph_scopes(permissions)
        self._cache_store = cache_store
        self._cache = msal.SerializableTokenCache()
        blob = cache_store.load_token_cache()
        if blob:
            self._cache.deserialize(blob)
        self._app = msal.PublicClientApplication(
            client_id,
            authority=authority,
            token_cache=self._cache,
            http_client=http_client,
            instance_discovery=validate_authority,
        )

    def _persist(self) -> None:
        if self._cache.has_state_changed:
            self._cache_store.save_token_cache(self._cache.serialize())
            self._cache.has_state_changed = False

    def sign_in_with_device_code(self, show: Callable[[str], None]) -> str:
        """Run the device-code flow (shows the sign-in message); returns the signed-in UPN."""
        flow = self._app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise GraphAuthError(f"Entra refused to start the device-code sign-in: {flow.get('error_description')}")
        show(flow["message"])
        result = self._app.acquire_token_by_device_flow(flow)
        self._check(result)
        self._persist()
        return str(result.get("id_token_claims", {}).get("preferred_username", "?"))

    def sign_in_with_browser(self, open_url: Callable[[str], None], *, port: int = 0, timeout: float = 300.0) -> str:
        """Authorization code + PKCE in a browser, redirect to localhost (`browser_sign_in.py`); returns the UPN."""
        from appliance.graph.browser_sign_in import sign_in_with_browser

        result = sign_in_with_browser(self._app, self.scopes, open_url, port=port, timeout=timeout)
        self._check(result)
        self._persist()
        return str(result.get("id_token_claims", {}).get("preferred_username", "?"))

    def access_token(self) -> str:
        """A valid access token, refreshed silently when needed; GraphAuthError if that is impossible."""
        accounts = self._app.get_accounts()
        if not accounts:
            raise GraphAuthError("the Aid is not signed in (no account in the token cache)")
        result = self._app.acquire_token_silent_with_error(self.scopes, account=accounts[0])
        if result is None:
            raise GraphAuthError("no token for the Aid's scopes is cached and none could be refreshed")
        self._check(result)
        self._persist()
        return str(result["access_token"])

    def claims(self) -> dict[str, Any]:
        """The claims of the Aid's current access token (read, not verified: Graph verifies it)."""
        claims: dict[str, Any] = jwt.decode(self.access_token(), options={"verify_signature": False})
        return claims

    def granted_scopes(self) -> set[str]:
        """The scopes in the Aid's current access token (`scp`), without the resource prefix."""
        return scopes_in(self.claims())

    def consented_scopes(self) -> set[str]:
        """Every Graph scope consented for the Aid now, asked of Entra afresh: a `.default` request names no
        scope, so it cannot fail for a missing one, and its token's `scp` lists all that was consented."""
        accounts = self._app.get_accounts()
        if not accounts:
            raise GraphAuthError("the Aid is not signed in (no account in the token cache)")
        result = self._app.acquire_token_silent_with_error(
            [f"{GRAPH_RESOURCE}/.default"], account=accounts[0], force_refresh=True
        )
        if result is None:
            raise GraphAuthError("no refresh token for the Aid is cached; sign it in again")
        self._check(result)
        self._persist()
        return scopes_in(jwt.decode(str(result["access_token"]), options={"verify_signature": False}))

    def upn(self) -> str:
        """The Aid's own user principal name (from its token)."""
        return upn_in(self.claims())

    @staticmethod
    def _check(result: dict[str, Any]) -> None:
        if "access_token" not in result:
            description = str(result.get("error_description", result.get("error", "unknown error")))
            block = explain_policy_block(description, REFRESH)
            advice = f" ({block.message}). What to do: {block.hint}" if block else ""
            raise GraphAuthError(f"Entra refused the Aid's token: {description.splitlines()[0]}{advice}")
