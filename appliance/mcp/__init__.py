"""The MCP server: any MCP orchestrator (OpenClaw, Hermes Agent, Claude Desktop, ...) can read through the
Aid and propose changes; the confirmation stays with the requester, in their Teams chat with the Aid.

The official `mcp` SDK lives here and nowhere else (import-linter contract)."""

from appliance.mcp.calls import AidCalls, McpCaller
from appliance.mcp.http import EntraTokenVerifier, McpEndpoint, ResourceServer, build_app, serve_mcp
from appliance.mcp.server import build_server
from appliance.mcp.tools import describe_tools, mcp_tools

__all__ = ["AidCalls", "EntraTokenVerifier", "McpCaller", "McpEndpoint", "ResourceServer", "build_app",
           "build_server", "describe_tools", "mcp_tools", "serve_mcp"]
