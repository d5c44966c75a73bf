"""Who is calling an inbound API: Entra access-token validation (PyJWT; keys fetched through the caller's
guarded HTTP client). Reusable by every API the appliance serves."""

from appliance.identity.entra_tokens import (
    EntraCaller,
    EntraTokenPolicy,
    EntraTokenValidator,
    FetchJson,
    TokenRejected,
)

__all__ = ["EntraCaller", "EntraTokenPolicy", "EntraTokenValidator", "FetchJson", "TokenRejected"]
