"""The Graph side of `appliance offboard`: the Aid disables its own account and revokes its own sessions,
as itself, through the gateway; then a refresh with its old refresh token proves the revoke held.

Each function answers an `Outcome` (never raises for a Graph or Entra refusal): what was found, and what
an admin must do when the Aid cannot do it itself. The Aid's identity and its refresh token are read
from the serialized msal cache (no network), so they are known even when Entra no longer answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import msal
from msgraph.generated.models.user import User
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from appliance.audit.receipt import Outcome
from appliance.egress.httpx_transport import GuardedTransport, tls_context
from appliance.graph.connect import GraphEndpoints
from appliance.graph.gateway import GraphCallFailed, GraphGateway, GraphWriteUncertain

ENTRA_USERS = "the Entra admin center (Identity > Users > All users > {upn})"


@dataclass(frozen=True)
class AidAccount:
    """Who the Aid is: its object id, its UPN and its tenant's GUID (from the token cache)."""

    id: str
    upn: str
    tenant_id: str


def _cache(blob: str) -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    cache.deserialize(blob)
    return cache


def cached_aid(blob: str | None) -> AidAccount | None:
    """The account signed in to the serialized msal cache, or None (no cache, no account)."""
    if not blob:
        return None
    accounts = list(_cache(blob).search(msal.TokenCache.CredentialType.ACCOUNT))
    if not accounts:
        return None
    account = accounts[0]
    uid, _, utid = str(account.get("home_account_id", "")).partition(".")  # "<object id>.<tenant GUID>"
    return AidAccount(str(account.get("local_account_id") or uid), str(account.get("username", "")),
                      utid or str(account.get("realm", "")))


def cached_refresh_token(blob: str | None) -> str | None:
    """The refresh token in the serialized msal cache, or None."""
    if not blob:
        return None
    tokens = list(_cache(blob).search(msal.TokenCache.CredentialType.REFRESH_TOKEN))
    return str(tokens[0]["secret"]) if tokens else None


def admin_disable_hint(upn: str) -> str:
    """What an admin does when the appliance could not disable the Aid."""
    return (f"An admin must disable {upn} in {ENTRA_USERS.format(upn=upn)}: Edit properties > Settings > "
            "clear 'Account enabled' > Save.")


def admin_revoke_hint(upn: str) -> str:
    """What an admin does when the appliance could not revoke the Aid's sessions."""
    return f"An admin must revoke the sessions of {upn} in {ENTRA_USERS.format(upn=upn)}: Revoke sessions."


def _evidence(gw: GraphGateway, crid: str) -> dict[str, str]:
    status, request_id = gw.wire(crid)
    return {"client_request_id": crid, "request_id": request_id or "", "http_status": str(status or "")}


async def account_enabled(gw: GraphGateway, aid: AidAccount) -> bool:
    """`accountEnabled` of the Aid's user, read through Graph (GraphCallFailed if Graph refuses)."""
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=["id", "accountEnabled"])
    user: Any = await gw.call(
        str(uuid.uuid4()), lambda c: gw.client.users.by_user_id(aid.id).get(request_configuration=c),
        query=query,
    )
    return bool(user.account_enabled)


async def disable_aid(gw: GraphGateway, aid: AidAccount) -> Outcome:
    """PATCH /users/{aid} accountEnabled=false as the Aid (already disabled: nothing is written)."""
    try:
        if not await account_enabled(gw, aid):
            return Outcome("already_done", f"{aid.upn} is already disabled (accountEnabled=false)")
    except GraphCallFailed as exc:
        if exc.status == 404:
            return Outcome("already_done", f"{aid.upn} no longer exists in the directory (404)")
        # otherwise let the write itself say what Graph allows
    crid = str(uuid.uuid4())
    try:  # sent at most once (gateway rule); a lost answer is settled by reading the account back
        await gw.call(crid, lambda c: gw.client.users.by_user_id(aid.id).patch(
            User(account_enabled=False), request_configuration=c), write=True)
    except GraphCallFailed as exc:
        return _refused(exc, f"disable {aid.upn}", admin_disable_hint(aid.upn), _evidence(gw, crid))
    except GraphWriteUncertain as exc:
        try:
            if not await account_enabled(gw, aid):
                return Outcome("done", f"{aid.upn} disabled (read back after a lost answer: {exc})",
                               evidence=_evidence(gw, crid))
        except GraphCallFailed:
            pass
        return _unproven(exc, f"disable {aid.upn}", admin_disable_hint(aid.upn), _evidence(gw, crid))
    return Outcome("done", f"{aid.upn} disabled (accountEnabled=false)", evidence=_evidence(gw, crid))


async def revoke_sessions(gw: GraphGateway, aid: AidAccount) -> Outcome:
    """POST /users/{aid}/revokeSignInSessions as the Aid (repeating it is harmless)."""
    crid = str(uuid.uuid4())
    try:
        await gw.call(crid, lambda c: gw.client.users.by_user_id(aid.id).revoke_sign_in_sessions.post(
            request_configuration=c), write=True)
    except GraphWriteUncertain as exc:  # the refresh-token check that follows proves whether it held
        return _unproven(exc, f"revoke the sessions of {aid.upn}", admin_revoke_hint(aid.upn), _evidence(gw, crid))
    except GraphCallFailed as exc:
        if exc.status == 404:
            return Outcome("already_done", f"{aid.upn} no longer exists in the directory (404)")
        return _refused(exc, f"revoke the sessions of {aid.upn}", admin_revoke_hint(aid.upn), _evidence(gw, crid))
    return Outcome("done", f"every refresh token and session of {aid.upn} revoked", evidence=_evidence(gw, crid))


def _refused(exc: GraphCallFailed, what: str, admin_hint: str, evidence: dict[str, str]) -> Outcome:
    if exc.status in (401, 403):
        return Outcome(
            "needs_admin", f"Graph did not let the Aid {what} ({exc.status} {exc.code}): in a real tenant the Aid "
            "may not be allowed to change its own account", admin_hint, evidence,
        )
    return Outcome("failed", f"Graph could not {what} ({exc.status or 'no answer'} {exc.code}: {exc.message})",
                   admin_hint + " (The appliance's token is destroyed by this run, so it cannot retry later.)",
                   evidence)


def _unproven(exc: GraphWriteUncertain, what: str, admin_hint: str, evidence: dict[str, str]) -> Outcome:
    return Outcome("failed", f"Graph's answer to {what} was lost ({exc}); it was not sent again, so whether it "
                   "happened is unproven", admin_hint + " (Check it in the Entra admin center.)", evidence)


def refresh_refused(endpoints: GraphEndpoints, scopes: Iterable[str], refresh_token: str) -> Outcome:
    """Ask Entra for tokens with the Aid's old refresh token: `passed` only if Entra answers invalid_grant."""
    http = httpx.Client(
        transport=GuardedTransport(endpoints.allowlist, host_map=endpoints.host_map,
                                   verify=tls_context(endpoints.ca_bundle)), timeout=30.0,
    )
    try:  # a throwaway msal app with an in-memory cache: nothing it gets is kept anywhere
        app = msal.PublicClientApplication(
            endpoints.client_id, authority=f"{endpoints.authority_host}/{endpoints.tenant}", http_client=http,
            instance_discovery=endpoints.host_map is None,
        )
        result = app.acquire_token_by_refresh_token(refresh_token, scopes=list(scopes))
    except (httpx.HTTPError, ValueError, OSError) as exc:
        return Outcome("failed", f"could not ask Entra ({type(exc).__name__}): the revoke is unproven",
                       "Check in the Entra admin center that the Aid's sessions are revoked.")
    finally:
        http.close()
    if "access_token" in result:
        return Outcome("failed", "Entra still accepts the Aid's old refresh token",
                       "Revoke the Aid's sessions in the Entra admin center now, and disable the account.")
    error = str(result.get("error", ""))
    reason = str(result.get("error_description", "")).splitlines()[0] if result.get("error_description") else ""
    if error == "invalid_grant":
        return Outcome("passed", f"Entra refuses the old refresh token: invalid_grant ({reason})")
    return Outcome("failed", f"Entra answered {error or 'no error code'} ({reason}), not invalid_grant: the revoke "
                   "is unproven", "Check in the Entra admin center that the Aid's sessions are revoked.")
