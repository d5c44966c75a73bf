"""`appliance init`, `store info|rekey`, `retention purge`, `export` through real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from appliance.config import load_settings
from appliance.store import TenantStore, audit_records, conversations
from appliance.store.migrations import LATEST


def _cli(*args: str, home: Path, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "APPLIANCE_HOME": str(home), **env}
    return subprocess.run([sys.executable, "-m", "appliance", *args], env=environ, capture_output=True, text=True,
                          check=check, timeout=120)


def test_init_creates_a_0600_key_outside_the_data_dir_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _cli("init", home=home).stdout
    key = tmp_path / "home.key"
    assert "created key file" in first and (key.stat().st_mode & 0o777) == 0o600
    assert {p.name for p in home.iterdir()} == {"appliance.db"}
    before = key.read_text()
    again = _cli("init", home=home).stdout
    assert "created key file" not in again and f"schema version {LATEST}" in again
    assert key.read_text() == before


def test_init_refuses_a_new_key_for_an_existing_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli("init", home=home)
    (tmp_path / "home.key").unlink()
    result = _cli("init", home=home, check=False)
    assert result.returncode == 1 and "refusing to make a new key" in result.stderr
    assert "what to do: Restore the key file" in result.stderr
    assert not (tmp_path / "home.key").exists()


def test_a_wrong_or_loose_key_gives_a_two_line_error_naming_the_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli("init", home=home)
    key = tmp_path / "home.key"
    wrong = "ab" * 32
    key.write_text(wrong + "\n")
    result = _cli("store", "info", home=home, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert f"does not open with the key file {key}" in result.stderr and "what to do:" in result.stderr
    assert wrong not in result.stderr and "Traceback" not in result.stderr
    os.chmod(key, 0o644)
    loose = _cli("store", "info", home=home, check=False)
    assert loose.returncode == 1 and "mode 0644; it must be 0600" in loose.stderr and f"chmod 600 {key}" in loose.stderr


def test_rekey_info_purge_and_export_keep_the_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli("init", home=home)
    with TenantStore.open(load_settings(home)) as store:
        store.run(conversations.append_turn, "c", "user", "disable lee please")
        store.run(audit_records.append_record, {"ToolName": "m365_user_disable", "Outcome": "Success"})
        store.put_secret("bot.app_secret", "s3cret")
    old = (tmp_path / "home.key").read_text()
    assert "rotated" in _cli("store", "rekey", home=home).stdout
    assert (tmp_path / "home.key").read_text() != old
    info = _cli("store", "info", home=home).stdout
    assert f"schema:  version {LATEST}" in info and "conversation_turns 1" in info and "bot.app_secret" in info
    # 2: the appended record and the operator's rekey (operator actions are audit records too)
    assert "audit chain intact: 2 records" in info and "s3cret" not in info
    purge = _cli("retention", "purge", home=home).stdout
    assert "purged 0 conversation turns" in purge and "0 audit records" in purge
    exported = _cli("export", str(tmp_path / "out"), home=home).stdout
    # 3: the appended record, the rekey and the retention purge, each an audit record
    assert "conversations.jsonl (1 rows)" in exported and "audit.jsonl (3 rows)" in exported, exported
    assert json.loads((tmp_path / "out" / "conversations.jsonl").read_text())["text"] == "disable lee please"
    with TenantStore.open(load_settings(home)) as store:
        assert store.get_secret("bot.app_secret") == "s3cret"


def test_a_key_from_an_environment_variable_and_its_rotation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "appliance.toml").write_text('[store]\nkey_provider = "env"\n')
    old, new = os.urandom(32).hex(), os.urandom(32).hex()
    assert f"schema version {LATEST}" in _cli("init", home=home, APPLIANCE_STORE_KEY=old).stdout
    assert not list(tmp_path.glob("*.key"))
    refused = _cli("store", "rekey", home=home, check=False, APPLIANCE_STORE_KEY=old)
    assert refused.returncode == 1 and "--new-key-env" in refused.stderr
    rotated = _cli("store", "rekey", "--new-key-env", "NEXT_KEY", home=home, APPLIANCE_STORE_KEY=old, NEXT_KEY=new)
    assert "store the value of NEXT_KEY as APPLIANCE_STORE_KEY" in rotated.stdout
    assert _cli("store", "info", home=home, check=False, APPLIANCE_STORE_KEY=old).returncode == 1
    assert f"schema:  version {LATEST}" in _cli("store", "info", home=home, APPLIANCE_STORE_KEY=new).stdout


def test_a_missing_store_gives_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "home.key").write_text("00" * 32)
    os.chmod(tmp_path / "home.key", 0o600)
    result = _cli("store", "info", home=home, check=False)
    assert result.returncode == 1 and "no store at" in result.stderr and "appliance init" in result.stderr
