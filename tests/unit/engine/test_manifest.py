"""models/manifest.toml and the model hash check (fast: small files, no model is loaded)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from appliance.engine import manifest
from appliance.engine.manifest import ModelEntry, WheelSource, load_manifest, model_entry, sha256_file, verify_model
from appliance.errors import ConfigError, ModelError, ModelIntegrityError

PAYLOAD = b"GGUF" + bytes(range(256)) * 9000  # a little over 2 MiB: three 1 MiB chunks
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()

MANIFEST = """
default = "tiny"

[models.tiny]
name = "Tiny"
file = "tiny.gguf"
sha256 = "{sha}"
license = "MIT"
chat_template_source = "chatml"
context_length = 2048

[models.tiny.source]
kind = "pypi-wheel"
package = "tiny-model"
version = "1.2"
wheel_sha256 = "{wheel}"
member = "tiny_model/tiny.gguf"

[models.bare]
name = "Bare"
file = "bare.gguf"
sha256 = "{sha}"
"""


def _entry(sha: str = DIGEST) -> ModelEntry:
    return ModelEntry("tiny", "Tiny", "tiny.gguf", sha, "MIT", "gguf", 512, None)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    (tmp_path / "tiny.gguf").write_bytes(PAYLOAD)
    return tmp_path


def test_the_right_file_verifies_and_its_path_is_returned(models: Path) -> None:
    assert verify_model(_entry(), models) == models / "tiny.gguf"


def test_one_changed_byte_is_refused_naming_both_hashes(models: Path) -> None:
    changed = bytearray(PAYLOAD)
    changed[len(changed) // 2] ^= 1
    (models / "tiny.gguf").write_bytes(bytes(changed))
    with pytest.raises(ModelIntegrityError, match="will not load") as caught:
        verify_model(_entry(), models)
    assert DIGEST in str(caught.value) and hashlib.sha256(bytes(changed)).hexdigest() in str(caught.value)


def test_a_pin_in_capitals_is_not_a_different_pin_once_loaded(tmp_path: Path, models: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(MANIFEST.format(sha=DIGEST.upper(), wheel="ab" * 32))
    _, entries = load_manifest(path)
    assert entries["tiny"].sha256 == DIGEST
    assert verify_model(entries["tiny"], models) == models / "tiny.gguf"


def test_a_missing_file_is_a_model_error_not_an_integrity_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing") as caught:
        verify_model(_entry(), tmp_path)
    assert not isinstance(caught.value, ModelIntegrityError)
    (tmp_path / "tiny.gguf").mkdir()  # a directory where the file should be
    with pytest.raises(ModelError, match="missing"):
        verify_model(_entry(), tmp_path)


def test_sha256_file_reads_in_1_mib_chunks_and_reports_each(models: Path) -> None:
    seen: list[int] = []
    assert sha256_file(models / "tiny.gguf", seen.append) == DIGEST
    assert seen == [1 << 20, 1 << 20, len(PAYLOAD) - 2 * (1 << 20)]
    assert sha256_file(models / "tiny.gguf") == DIGEST
    progress: list[int] = []
    verify_model(_entry(), models, progress.append)
    assert sum(progress) == len(PAYLOAD)


def test_the_manifest_parses_every_field_and_the_wheel_source(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(MANIFEST.format(sha=DIGEST, wheel="cd" * 32))
    default, entries = load_manifest(path)
    assert default == "tiny" and list(entries) == ["tiny", "bare"]
    tiny = entries["tiny"]
    assert (tiny.key, tiny.name, tiny.file, tiny.license, tiny.chat_template_source, tiny.context_length) == (
        "tiny", "Tiny", "tiny.gguf", "MIT", "chatml", 2048)
    assert tiny.source == WheelSource("tiny-model", "1.2", "cd" * 32, "tiny_model/tiny.gguf")
    bare = entries["bare"]
    assert (bare.license, bare.chat_template_source, bare.context_length, bare.source) == (
        "unknown", "gguf:tokenizer.chat_template", 4096, None)
    assert tiny.path(Path("/models")) == Path("/models/tiny.gguf")


def test_a_source_of_another_kind_is_not_fetchable(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(MANIFEST.format(sha=DIGEST, wheel="cd" * 32).replace('kind = "pypi-wheel"', 'kind = "hub"'))
    assert load_manifest(path)[1]["tiny"].source is None


@pytest.mark.parametrize(
    ("text", "message"),
    [('default = "nope"\n[models.a]\nname="A"\nfile="a"\nsha256="00"\n', "default model 'nope'"),
     ("default = [", "cannot read the model manifest"), ("", "default model ''")],
)
def test_a_broken_manifest_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_manifest(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_manifest(tmp_path / "absent.toml")


def test_the_shipped_manifest_pins_the_default_model_and_its_wheel() -> None:
    entry = model_entry()
    assert entry.key == "smollm2-135m-instruct-q4_1" and model_entry(entry.key) == entry
    assert entry.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert entry.source is not None and len(entry.source.wheel_sha256) == 64
    with pytest.raises(ConfigError) as unknown:
        model_entry("gpt-unknown")
    known = ", ".join(load_manifest()[1])
    assert unknown.value.message == f"model 'gpt-unknown' is not in {manifest.MANIFEST_PATH}; known: {known}"
    assert manifest.MANIFEST_PATH.name == "manifest.toml" and manifest.MANIFEST_PATH.parent.name == "models"
