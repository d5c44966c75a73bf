"""Errors of the Graph side. Each has a Teams-safe sentence for the person in the chat."""

from __future__ import annotations

from appliance.errors import ApplianceError


class GraphAuthError(ApplianceError):
    """The Aid has no usable token: never signed in, consent revoked, account disabled."""

    hint = "Run `appliance init` to sign the Aid in again (an admin must consent)."
    teams_message = "I can't reach Microsoft 365 right now: my sign-in needs renewing. An administrator has been told."
