"""Offboarding in Kubernetes: appliance.toml is a ConfigMap mounted read-only (subPath), which the pod cannot
delete. It is kept and handed to the admin (`needs_admin` with the kubectl line), and the home still counts
as empty; a plain file is removed as before. Whether a path is such a mount is the one thing faked here."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import CONFIG_FILE_NAME
from appliance.wiring import offboard_local
from appliance.wiring.offboard_local import home_is_empty, mounted_read_only, remove_files


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "ops.jsonl").write_text("{}\n")
    (home / CONFIG_FILE_NAME).write_text("[gate]\n")
    return home


def test_a_plain_config_file_is_removed(tmp_path: Path) -> None:
    home = _home(tmp_path)
    assert not mounted_read_only(home / CONFIG_FILE_NAME)
    outcome = remove_files([home / "logs", home / CONFIG_FILE_NAME])
    assert outcome.status == "done" and not (home / CONFIG_FILE_NAME).exists()
    assert home_is_empty(home, None).status == "passed"


def test_a_read_only_mounted_config_is_kept_for_the_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path)
    monkeypatch.setattr(offboard_local, "mounted_read_only", lambda path: path.name == CONFIG_FILE_NAME)
    outcome = remove_files([home / "logs", home / CONFIG_FILE_NAME])
    assert outcome.status == "needs_admin" and "kept appliance.toml (mounted read-only)" in outcome.detail
    assert "kubectl delete configmap" in outcome.hint and not (home / "logs").exists()
    assert (home / CONFIG_FILE_NAME).exists()  # never touched
    empty = home_is_empty(home, None)
    assert empty.status == "passed" and "read-only mounted appliance.toml" in empty.detail
    assert remove_files([home / "logs", home / CONFIG_FILE_NAME]).status == "needs_admin"  # a rerun says it again


def test_anything_else_left_still_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _home(tmp_path)
    monkeypatch.setattr(offboard_local, "mounted_read_only", lambda path: path.name == CONFIG_FILE_NAME)
    (home / "notes.txt").write_text("someone else's file")
    remove_files([home / "logs", home / CONFIG_FILE_NAME])
    empty = home_is_empty(home, None)
    assert empty.status == "failed" and "notes.txt" in empty.detail and CONFIG_FILE_NAME not in empty.detail
