"""Rules about the repository itself (docs/ARCHITECTURE.md): it points to nothing outside itself, it keeps
no formatter markers (ruff check is the gate, formatting is by hand), and nobody asks which key provider
it holds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO_ROOT

TEXT_DIRS = ("appliance", "dev", "tests", "docs", "hipaa", "deploy", "models", ".ci")
ROOT_FILES = ("README.md", "Makefile", "pyproject.toml", "Dockerfile.gpu", ".dockerignore")
SUFFIXES = {".py", ".md", ".toml", ".sh", ".txt", ".json", ".yaml", ".yml", ""}
# Written in pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([r"\bDESIGN" + r"\.md\b", r"\bREFERENCE" + r"\.md\b", "/work" + "/", "/shared" + "/"]))
FORMATTER_MARKER = re.compile("fmt" + r": *(skip|off|on)\b")


def _files() -> list[Path]:
    found = [REPO_ROOT / name for name in ROOT_FILES]
    for folder in TEXT_DIRS:
        for path in (REPO_ROOT / folder).rglob("*"):
            skipped = "__pycache__" in path.parts or any(part.endswith(".egg-info") for part in path.parts)
            if path.is_file() and path.suffix in SUFFIXES and not skipped:
                found.append(path)
    return [path for path in found if path.exists()]


def _hits(pattern: re.Pattern[str], paths: list[Path]) -> list[str]:
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:100]}")
    return hits


def test_nothing_points_to_a_document_outside_the_repository() -> None:
    assert _hits(OUTSIDE, _files()) == []


def test_no_formatter_markers() -> None:
    assert _hits(FORMATTER_MARKER, [path for path in _files() if path.suffix == ".py"]) == []


def test_nobody_asks_which_key_provider_it_holds() -> None:
    asks = re.compile(r"isinstance\([^)]*(File|Env)KeyProvider")
    assert _hits(asks, [path for path in _files() if path.suffix == ".py"]) == []
