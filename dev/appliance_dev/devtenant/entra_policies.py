"""Conditional Access's "authentication flows" condition: a policy that blocks the device-code flow.

Emulated from MicrosoftDocs/entra-docs:
- docs/identity/conditional-access/concept-authentication-flows.md: a policy can target the device code
  flow; a session that used device code is "protocol tracked" ("original transfer method: Device code
  flow"), the tracking is "sustained through subsequent refreshes", and such a session is blocked by the
  policy in any later flow, a refresh included.
- docs/identity-platform/reference-error-codes.md: AADSTS53003 BlockedByConditionalAccess, "Access has been
  blocked by Conditional Access policies. The access policy does not allow token issuance."
Where a real tenant shows the block to the person at the device-code sign-in page, the dev tenant (which
approves device codes itself) answers the token poll with the same AADSTS53003.
Switched with `POST /_admin/conditional-access {"blockDeviceCodeFlow": true|false}` or `block_device_code`.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext

DEVICE_CODE_FLOW = "deviceCodeFlow"  # the transferMethods value of the authentication flows condition


def block_device_code(ctx: DevTenantContext, blocked: bool) -> None:
    """Switch the tenant's "block device code flow" Conditional Access policy on or off."""
    with ctx.state.lock:
        ctx.state.data.setdefault("conditionalAccess", {})["blockDeviceCodeFlow"] = blocked
    ctx.state.save()


def refused_by_policy(ctx: DevTenantContext, transfer_method: str | None) -> web.Response | None:
    """AADSTS53003 if a policy blocks the flow (or the protocol-tracked session) of this token request."""
    blocked = ctx.state.data.get("conditionalAccess", {}).get("blockDeviceCodeFlow", False)
    if not blocked or transfer_method != DEVICE_CODE_FLOW:
        return None
    body: dict[str, Any] = {
        "error": "invalid_grant", "error_codes": [53003], "suberror": "message_only",
        "error_description": "AADSTS53003: Access has been blocked by Conditional Access policies. The access "
                             "policy does not allow token issuance.",
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
    }
    return web.json_response(body, status=400)


async def admin_conditional_access(request: web.Request) -> web.Response:
    """`POST /_admin/conditional-access`: turn the device-code blocking policy on or off."""
    body = await request.json()
    block_device_code(request.app[CONTEXT_KEY], bool(body.get("blockDeviceCodeFlow")))
    return web.json_response({"ok": True})
