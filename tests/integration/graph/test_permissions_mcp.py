"""`appliance permissions` with `[mcp] enabled = true`: the third registration (the MCP API), and the CLI that
prints what an MCP client sees."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from appliance.catalog import DEFAULT_CATALOG, REPLY_TOOL
from appliance.cli.main import cli
from appliance.mcp.tools import CHAT_ONLY


def _enable_mcp(home: Path) -> None:
    (home / "appliance.toml").write_text('[mcp]\nenabled = true\napp_id = "0b6f0e55-5c3e-4d0f-9a65-6a4a4b3f9d10"\n'
                                         'public_url = "https://aid.contoso.com:3979/mcp"\n', encoding="utf-8")


def test_without_mcp_there_is_no_third_registration(appliance_home_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["permissions", "--skip-unverified", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0 and "3. mcp" not in result.stdout
    assert not (tmp_path / "out" / "mcp-app.json").exists()


def test_with_mcp_the_api_registration_exposes_an_admin_scope_and_an_app_role(appliance_home_dir: Path,
                                                                              tmp_path: Path) -> None:
    _enable_mcp(appliance_home_dir)
    result = CliRunner().invoke(cli, ["permissions", "--skip-unverified", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "3. mcp" in result.stdout and "api://0b6f0e55-5c3e-4d0f-9a65-6a4a4b3f9d10/Aid.Request" in result.stdout
    manifest = json.loads((tmp_path / "out" / "mcp-app.json").read_text(encoding="utf-8"))
    assert manifest["identifierUris"] == ["api://0b6f0e55-5c3e-4d0f-9a65-6a4a4b3f9d10"]
    scope = manifest["api"]["oauth2PermissionScopes"][0]
    assert scope["value"] == "Aid.Request" and scope["type"] == "Admin" and scope["isEnabled"] is True
    assert manifest["api"]["requestedAccessTokenVersion"] == 2
    role = manifest["appRoles"][0]
    assert role["value"] == "Aid.Requester" and role["allowedMemberTypes"] == ["User"]
    again = CliRunner().invoke(cli, ["permissions", "--json"])
    assert json.loads(again.stdout)["mcp"]["resource"] == "https://aid.contoso.com:3979/mcp"


def test_mcp_tools_prints_what_a_client_sees(appliance_home_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["mcp", "tools", "--json"])
    assert result.exit_code == 0, result.output
    tools = json.loads(result.stdout)["tools"]
    names = [t["name"] for t in tools]
    # The chat-only tools (reply, the Teams pending-action tools) stay out; MCP has its own two instead.
    assert REPLY_TOOL in CHAT_ONLY and not CHAT_ONLY & set(names)
    assert set(names) == (set(DEFAULT_CATALOG) - CHAT_ONLY) | {"action_status", "pending_actions"}
    assert all("inputSchema" in t for t in tools)
    text = CliRunner().invoke(cli, ["mcp", "tools"])
    assert "m365_user_disable" in text.stdout and "proposes (confirmed in Teams)" in text.stdout
