"""The dev tenant's directory: users, groups, SKUs, audits, refresh tokens. Seeded from JSON, persisted.

It is an emulator's state, not tenant data: a JSON file under `$APPLIANCE_HOME/devtenant`.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED_PATH = Path(__file__).with_name("seed.json")


def utc_now() -> str:
    """Graph's timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TenantState:
    """The directory, guarded by one lock (the server handles requests on several tasks)."""

    def __init__(self, data: dict[str, Any], path: Path | None = None) -> None:
        self.data = data
        self.path = path
        self.lock = threading.RLock()
        data.setdefault("directoryAudits", [])
        data.setdefault("refreshTokens", {})

    @classmethod
    def load(cls, directory: Path | None, seed: Path = SEED_PATH) -> TenantState:
        """Load persisted state from `directory/state.json`, or start from the seed."""
        path = directory / "state.json" if directory else None
        if path and path.exists():
            return cls(json.loads(path.read_text(encoding="utf-8")), path)
        return cls(copy.deepcopy(json.loads(seed.read_text(encoding="utf-8"))), path)

    def save(self) -> None:
        """Persist atomically (no-op for an in-memory tenant)."""
        if not self.path:
            return
        with self.lock:
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
            os.replace(partial, self.path)

    # -- directory ------------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        """The tenant's id (a GUID)."""
        return str(self.data["tenantId"])

    def user(self, key: str) -> dict[str, Any] | None:
        """A user by object id or UPN (case-insensitive)."""
        key = key.lower()
        return next((u for u in self.data["users"] if u["id"] == key or u["userPrincipalName"].lower() == key), None)

    def group(self, key: str) -> dict[str, Any] | None:
        """A group by object id."""
        return next((g for g in self.data["groups"] if g["id"] == key), None)

    def sku(self, sku_id: str) -> dict[str, Any] | None:
        """A subscribed SKU by skuId."""
        return next((s for s in self.data["subscribedSkus"] if s["skuId"] == sku_id), None)

    def consumed_units(self, sku_id: str) -> int:
        """How many users hold this SKU."""
        return sum(any(a["skuId"] == sku_id for a in u["assignedLicenses"]) for u in self.data["users"])

    # -- audit ----------------------------------------------------------------------------------
    def audit(
        self,
        activity: str,
        category: str,
        actor: dict[str, Any],
        targets: list[dict[str, Any]],
        correlation_id: str,
        operation: str = "Update",
        *,
        moment: datetime | None = None,
        visible_after: timedelta = timedelta(),
        failure: str | None = None,
    ) -> dict[str, Any]:
        """Record a directoryAudit entry (every write makes one, a refused one too, with `result: failure`).

        `_visibleAt` (never shown) is when the entry becomes readable: Entra's audit log is late
        (`clock.AuditLatency`). The directoryAudit resource: microsoftgraph/microsoft-graph-docs-contrib,
        api-reference/v1.0/resources/directoryaudit.md (`result`: success, failure, timeout; `resultReason`)."""
        moment = moment or datetime.now(UTC)
        entry = {
            "id": f"Directory_{uuid.uuid4()}",
            "category": category,
            "correlationId": correlation_id,
            "result": "failure" if failure else "success",
            "resultReason": failure or "",
            "activityDisplayName": activity,
            "activityDateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "_visibleAt": (moment + visible_after).isoformat(),
            "loggedByService": "Core Directory",
            "operationType": operation,
            "initiatedBy": {"user": {"id": actor["id"], "userPrincipalName": actor["userPrincipalName"]}, "app": None},
            "targetResources": [
                {
                    "id": t["id"],
                    "displayName": t.get("displayName"),
                    "type": t.get("type", "User"),
                    "userPrincipalName": t.get("userPrincipalName"),
                }
                for t in targets
            ],
            "additionalDetails": [],
        }
        with self.lock:
            self.data["directoryAudits"].append(entry)
        return entry

    def sign_ins(self, user: dict[str, Any], days: int) -> list[dict[str, Any]]:
        """A deterministic sign-in history for `user` (three a day, one failure a week)."""
        now = datetime.now(UTC)
        out = []
        for i in range(days * 3):
            moment = now - timedelta(hours=8 * i + 1)
            failed = i % 21 == 5
            out.append(
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user['id']}/{i}")),
                    "createdDateTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "userPrincipalName": user["userPrincipalName"],
                    "userId": user["id"],
                    "appDisplayName": "Microsoft Teams" if i % 2 else "Office 365 Exchange Online",
                    "ipAddress": f"198.51.100.{10 + i % 50}",
                    "clientAppUsed": "Browser",
                    "location": {"city": "Berlin", "countryOrRegion": "DE"},
                    "status": {
                        "errorCode": 50126 if failed else 0,
                        "failureReason": "Invalid username or password." if failed else None,
                    },
                }
            )
        return out

    # -- tokens ---------------------------------------------------------------------------------
    def issue_refresh_token(self, upn: str, client_id: str, scopes: list[str],
                            transfer_method: str | None = None) -> str:
        """A new opaque refresh token for this user and client; `transfer_method` marks a protocol-tracked
        session (`entra_policies.py`)."""
        token = "dev-rt." + secrets.token_urlsafe(32)
        with self.lock:
            self.data["refreshTokens"][token] = {
                "upn": upn,
                "client_id": client_id,
                "scopes": scopes,
                "revoked": False,
                "issued": utc_now(),
                **({"originalTransferMethod": transfer_method} if transfer_method else {}),
            }
        self.save()
        return token

    def redeem_refresh_token(self, token: str) -> dict[str, Any] | None:
        """The grant of a live refresh token, or None. Using a refresh token does not revoke it: Entra returns a
        new one with each use and the old one stays valid until it expires or is revoked (MicrosoftDocs/entra-docs,
        docs/identity-platform/refresh-tokens.md)."""
        with self.lock:
            grant = self.data["refreshTokens"].get(token)
            if not grant or grant["revoked"]:
                return None
        return dict(grant)

    def revoke_sessions(self, upn: str) -> int:
        """Revoke every refresh token of `upn` (revokeSignInSessions invalidates them: MicrosoftDocs/entra-docs,
        docs/identity-platform/refresh-tokens.md, "Token revocation"); returns how many."""
        count = 0
        with self.lock:
            for grant in self.data["refreshTokens"].values():
                if grant["upn"].lower() == upn.lower() and not grant["revoked"]:
                    grant["revoked"] = True
                    count += 1
        self.save()
        return count
