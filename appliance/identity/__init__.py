"""Validating Entra ID access tokens that callers present to the appliance's own APIs.

One validator (`EntraTokenValidator`) for every inbound API that accepts Entra tokens: the direct
audit API (`GET /api/audit/...`) and the MCP server. See `entra_tokens.py` for its API.
"""

from appliance.identity.entra_tokens import (
    EntraPrincipal,
    EntraTokenPolicy,
    EntraTokenValidator,
    TokenRejected,
    bearer_token,
)

__all__ = ["EntraPrincipal", "EntraTokenPolicy", "EntraTokenValidator", "TokenRejected", "bearer_token"]
