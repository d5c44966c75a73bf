"""What an MCP client sees: the enabled catalog minus `reply`, plus `action_status` and `pending_actions`.

Each catalog tool keeps the catalog's JSON schema and description. A state-changing tool says, in its
description and annotations, that it only *proposes*: the change waits for the requester's own
confirmation in their Teams chat with the Aid. There is no tool that confirms, on purpose.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types

from appliance.catalog import REPLY_TOOL, Catalog
from appliance.catalog.spec import ToolSpec

CHAT_ONLY = frozenset({REPLY_TOOL, "aid_pending_list", "aid_pending_cancel"})
"""Catalog tools that only make sense in the person's chat: the model's reply, and the chat's own waiting
changes (an agent has `pending_actions` and `action_status` instead)."""

ACTION_STATUS = "action_status"
PENDING_ACTIONS = "pending_actions"
ACTION_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
PROPOSES_ONLY = (
    " Changes state, so it never runs from here: it creates a pending action and sends a confirmation card "
    "to the requester's own Teams chat with the Aid. Only that person can confirm it there (some changes "
    "also need a second approver). The result gives the action id, the exact summary and the expiry; "
    "follow it with action_status."
)


def _catalog_tool(spec: ToolSpec) -> types.Tool:
    annotations = types.ToolAnnotations(
        title=spec.name, read_only_hint=not spec.changes_state, destructive_hint=spec.changes_state,
        idempotent_hint=not spec.changes_state, open_world_hint=False,
    )
    description = spec.description + (PROPOSES_ONLY if spec.changes_state else "")
    return types.Tool(name=spec.name, description=description, input_schema=spec.arguments_schema(),
                      annotations=annotations)


def _own_tools() -> list[types.Tool]:
    read_only = types.ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                      open_world_hint=False)
    action_id = {"type": "string", "maxLength": 64, "pattern": ACTION_ID_PATTERN,
                 "description": "The action id a state-changing tool returned"}
    status_schema: dict[str, Any] = {"type": "object", "properties": {"action_id": action_id},
                                     "required": ["action_id"], "additionalProperties": False}
    status = types.Tool(name=ACTION_STATUS, input_schema=status_schema, annotations=read_only,
                        description="Where one of your own pending actions stands: waiting for your confirmation "
                        "in Teams, confirmed, running, done, failed, cancelled or expired; once it ran, its audit "
                        "record (hash, outcome, and the Microsoft 365 audit entry it joins).")
    pending = types.Tool(name=PENDING_ACTIONS, annotations=read_only,
                         input_schema={"type": "object", "properties": {}, "additionalProperties": False},
                         description="Your own actions that still wait for a decision in your Teams chat with the "
                         "Aid (id, summary, expiry). Nobody else's are shown.")
    return [status, pending]


def mcp_tools(catalog: Catalog) -> list[types.Tool]:
    """Every tool a client lists, catalog tools first, in catalog order."""
    return [_catalog_tool(catalog[name]) for name in catalog if name not in CHAT_ONLY] + _own_tools()


def describe_tools(catalog: Catalog) -> list[dict[str, Any]]:
    """The tools as a client receives them (`tools/list` JSON), for `appliance mcp tools --json`."""
    return [tool.model_dump(by_alias=True, mode="json", exclude_none=True) for tool in mcp_tools(catalog)]
