"""Egress: the allowlist matcher (pure), the guards every HTTP stack goes through (httpx, requests,
aiohttp), a process-wide socket backstop, and one counter of refusals."""

from appliance.egress.allowlist import Allowlist, EgressBlocked, canonical_host
from appliance.egress.refusals import blocked_count, blocked_counts

__all__ = ["Allowlist", "EgressBlocked", "blocked_count", "blocked_counts", "canonical_host"]
