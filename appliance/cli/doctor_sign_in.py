"""`doctor`'s reading of a refused token refresh: which flow a tenant policy blocked, and what to do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from appliance.graph.errors import GraphAuthError
from appliance.graph.sign_in_policy import REFRESH, SIGN_IN_FLOW_SETTING, explain_policy_block
from appliance.store import TenantStore, key_value_settings


@contextlib.contextmanager
def refusal_explained(store: TenantStore) -> Iterator[None]:
    """Re-raise a GraphAuthError that a tenant policy caused as one naming the policy, the refused flow and
    the flow that signed the Aid in (recorded by `init --sign-in`); other errors pass unchanged."""
    try:
        yield
    except GraphAuthError as exc:
        signed_in_by = store.run(key_value_settings.get_setting, SIGN_IN_FLOW_SETTING)
        block = explain_policy_block(exc.message, REFRESH, signed_in_by)
        if block is None:
            raise
        by = f" (signed in by {signed_in_by})" if signed_in_by else ""
        raise GraphAuthError(f"the Aid's token could not be renewed{by}: {block.message} (AADSTS{block.code})",
                             hint=block.hint) from exc
