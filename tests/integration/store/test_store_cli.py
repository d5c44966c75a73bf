"""`appliance init`, `store info|rekey`, `retention purge`, `export` through real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _cli(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPLIANCE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "appliance", *args], env=env, capture_output=True, text=True,
                          check=check, timeout=120)  # fmt: skip


def test_init_creates_a_0600_key_outside_the_data_dir_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _cli("init", home=home).stdout
    key = tmp_path / "home.key"
    assert "created key file" in first and (key.stat().st_mode & 0o777) == 0o600
    assert not any(p.suffix == ".key" for p in home.iterdir())
    before = key.read_text()
    assert "created key file" not in _cli("init", home=home).stdout
    assert key.read_text() == before


def test_init_refuses_a_new_key_for_an_existing_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli("init", home=home)
    (tmp_path / "home.key").unlink()
    result = _cli("init", home=home, check=False)
    assert result.returncode != 0 and "refusing to make a new key" in result.stderr
    assert not (tmp_path / "home.key").exists()


def test_rekey_info_purge_and_export(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _cli("init", home=home)
    old = (tmp_path / "home.key").read_text()
    assert "rotated" in _cli("store", "rekey", home=home).stdout
    assert (tmp_path / "home.key").read_text() != old
    assert "schema: version 1" in _cli("store", "info", home=home).stdout
    assert "purged 0 conversation turns" in _cli("retention", "purge", home=home).stdout
    assert "audit.jsonl (0 rows)" in _cli("export", str(tmp_path / "out"), home=home).stdout


def test_a_missing_store_gives_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "home.key").write_text("00" * 32)
    os.chmod(tmp_path / "home.key", 0o600)
    result = _cli("store", "info", home=home, check=False)
    assert result.returncode == 1 and "no store at" in result.stderr and "appliance init" in result.stderr
