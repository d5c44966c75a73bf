"""The MCP server proper (the official SDK's low-level `Server`): `tools/list` and `tools/call`, nothing else.

No prompts, resources, sampling or elicitation: the agent can list the tools and call them, and a call
can only read or propose. Who calls comes from the request the transport attached (the bearer token the
auth middleware accepted), never from anything the agent sends in the message.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

from appliance.catalog import Catalog
from appliance.mcp.calls import AidCalls, McpCaller
from appliance.mcp.tools import mcp_tools

SERVER_NAME = "aidizen-aid"
INSTRUCTIONS = (
    "The Aid administers this Microsoft 365 tenant for the signed-in person. Read-only tools answer at once. "
    "A tool that changes something only proposes it: the person confirms it themselves in their Teams chat "
    "with the Aid (there is no way to confirm from here). Use action_status to follow a proposed change."
)


def caller_of(ctx: ServerRequestContext[Any, Any]) -> McpCaller | None:
    """The authenticated caller of this request (the accepted token) and the client it announced."""
    request = ctx.request
    scope = getattr(request, "scope", None) or {}
    user = scope.get("user") if isinstance(scope, dict) else None
    if not isinstance(user, AuthenticatedUser) or not user.access_token.subject:
        return None
    params = ctx.session.client_params
    info = params.client_info if params is not None else None
    return McpCaller(object_id=user.access_token.subject, client_app_id=user.access_token.client_id,
                     client_name=info.name if info else "", client_version=info.version if info else "")


def build_server(catalog: Catalog, calls: AidCalls, version: str) -> Server[Any]:
    """The SDK server with the Aid's two handlers."""
    tools = mcp_tools(catalog)

    async def list_tools(ctx: ServerRequestContext[Any, Any],
                         params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any, Any],
                        params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = caller_of(ctx)
        if caller is None:  # unreachable behind the auth middleware; refuse rather than guess a person
            return types.CallToolResult(content=[types.TextContent(text="Not signed in.")], is_error=True)
        return await calls.call(caller, params.name, params.arguments)

    return Server(SERVER_NAME, version=version, instructions=INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool)
