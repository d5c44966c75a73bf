"""`appliance permissions` through the real CLI entry point, with a temporary $APPLIANCE_HOME."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.graph.permission_ids import DELEGATED_SCOPE_IDS, MICROSOFT_GRAPH_APP_ID


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["permissions", *args])
    return result.exit_code, result.stdout, result.stderr


def disable(home: Path, *tools: str) -> None:
    names = ", ".join(f'"{t}"' for t in tools)
    (home / "appliance.toml").write_text(f"[catalog]\ndisabled_tools = [{names}]\n", encoding="utf-8")


def test_text_shows_both_registrations_and_the_roles(appliance_home_dir: Path) -> None:
    code, out, _ = run()
    assert code == 0
    assert "1. chat" in out and "API permissions: none" in out and "https://api.botframework.com/.default" in out
    assert "2. admin" in out and "a154be20-db9c-4678-8ab7-66f6cc099a59" in out and "User Administrator" in out
    assert "User.ReadUpdate.All" in out and "NO VERIFIED ID" in out


def test_json_is_machine_readable_and_follows_disabled_tools(appliance_home_dir: Path) -> None:
    disable(appliance_home_dir, "m365_signins_recent")
    code, out, _ = run("--json")
    assert code == 0
    data = json.loads(out)
    scopes = {p["scope"]: p for p in data["admin"]["graph_permissions"]}
    assert scopes["User.Read.All"]["verified"] is True
    # the audit join needs both whatever is enabled (directoryaudit-list.md names AuditLog.Read.All and
    # Directory.Read.All)
    assert scopes["AuditLog.Read.All"]["tools"] == scopes["Directory.Read.All"]["tools"] == ["appliance"]
    assert data["admin"]["unverified"] == ["User.ReadUpdate.All"]
    assert data["chat"]["graph_permissions"] == [] and data["chat"]["teams_scopes"] == ["personal"]
    roles = {r["role"]: r["tools"] for r in data["admin"]["roles"]}
    assert roles["Reports Reader"] == ["appliance"]


def test_out_refuses_an_unverified_id_and_writes_nothing(appliance_home_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "manifests"
    code, _, err = run("--out", str(out_dir))
    assert code == 1 and "User.ReadUpdate.All" in err and "what to do:" in err
    assert not (out_dir / "chat-app.json").exists() and not (out_dir / "admin-app.json").exists()


def test_out_writes_both_manifests_0644_and_never_overwrites_without_force(
    appliance_home_dir: Path, tmp_path: Path
) -> None:
    disable(appliance_home_dir, "m365_user_update")
    out_dir = tmp_path / "manifests"
    code, out, _ = run("--out", str(out_dir))
    assert code == 0 and "wrote" in out
    admin = json.loads((out_dir / "admin-app.json").read_text(encoding="utf-8"))
    chat = json.loads((out_dir / "chat-app.json").read_text(encoding="utf-8"))
    for path in (out_dir / "admin-app.json", out_dir / "chat-app.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    (graph,) = admin["requiredResourceAccess"]
    assert graph["resourceAppId"] == MICROSOFT_GRAPH_APP_ID
    assert DELEGATED_SCOPE_IDS["User.Read.All"].id in {a["id"] for a in graph["resourceAccess"]}
    assert chat["requiredResourceAccess"] == []

    (out_dir / "admin-app.json").write_text("operator's edit", encoding="utf-8")
    code, _, err = run("--out", str(out_dir))
    assert code == 1 and "--force" in err
    assert (out_dir / "admin-app.json").read_text(encoding="utf-8") == "operator's edit"
    code, _, _ = run("--out", str(out_dir), "--force")
    assert code == 0 and json.loads((out_dir / "admin-app.json").read_text(encoding="utf-8")) == admin


def test_skip_unverified_writes_without_it_and_says_so(appliance_home_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run("--out", str(tmp_path / "m"), "--skip-unverified")
    assert code == 0 and "left out of admin-app.json" in out and "User.ReadUpdate.All" in out
    admin = json.loads((tmp_path / "m" / "admin-app.json").read_text(encoding="utf-8"))
    ids = {a["id"] for a in admin["requiredResourceAccess"][0]["resourceAccess"]}
    assert DELEGATED_SCOPE_IDS["User.ReadUpdate.All"].id not in ids
