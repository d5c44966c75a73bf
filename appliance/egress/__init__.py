"""Egress: the allowlist matcher (pure) and the transports every HTTP stack goes through."""

from appliance.egress.allowlist import Allowlist, EgressBlocked

__all__ = ["Allowlist", "EgressBlocked"]
