"""`appliance teams secret|manifest` through the CLI on a real store."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from appliance.cli.main import cli
from appliance.config import load_settings
from appliance.store import TenantStore
from appliance.store.setup import initialize_store
from appliance.wiring.dev import BOT_SECRET

APP_ID = "5f2c5b52-5b0d-4b0f-9c7e-2c0f3a3b8a11"


def test_the_secret_is_sealed_in_the_store_and_never_echoed(appliance_home_dir: Path) -> None:
    initialize_store(load_settings(appliance_home_dir))
    result = CliRunner().invoke(cli, ["teams", "secret"], input="s3cr3t-value-from-entra-0123\n")
    assert result.exit_code == 0 and "s3cr3t" not in result.output
    with TenantStore.open(load_settings(appliance_home_dir)) as store:
        assert store.get_secret(BOT_SECRET) == "s3cr3t-value-from-entra-0123"
    assert b"s3cr3t" not in (appliance_home_dir / "appliance.db").read_bytes()
    short = CliRunner().invoke(cli, ["teams", "secret"], input="short\n")
    assert short.exit_code == 1 and "does not look like a client secret" in short.output


def test_the_manifest_is_a_personal_scope_package_for_the_configured_bot(appliance_home_dir: Path,
                                                                         tmp_path: Path) -> None:
    (appliance_home_dir / "appliance.toml").write_text(f'[teams]\napp_id = "{APP_ID}"\n')
    out = tmp_path / "app.zip"
    result = CliRunner().invoke(cli, ["teams", "manifest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("color.png").startswith(b"\x89PNG")
    assert manifest["bots"] == [{"botId": APP_ID, "scopes": ["personal"], "supportsFiles": False,
                                 "isNotificationOnly": False}]
    again = CliRunner().invoke(cli, ["teams", "manifest", "--out", str(out)])
    assert again.exit_code == 1 and "never overwritten" in again.output


def test_the_dev_bot_id_is_refused_for_a_real_manifest(appliance_home_dir: Path, tmp_path: Path) -> None:
    (appliance_home_dir / "appliance.toml").write_text('[teams]\napp_id = "aidizen-bot"\n')
    result = CliRunner().invoke(cli, ["teams", "manifest", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 2 and "not an app registration id" in result.output
