"""The labelled set (realistic helpdesk requests, each with the tool and arguments a good model picks),
the hostile set (attacks, each with the calls that must never come out) and the directory both are
judged against. They are data, in `tests/evaluation/` (shipped beside the package like the model
manifest), and share no message with the engine's example bank (a test proves it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError

SETS_DIR = Path(__file__).resolve().parents[2] / "tests" / "evaluation"
FILES = ("labelled.json", "hostile.json", "tenant.json")
SETS_HINT = "Give --sets the folder holding labelled.json, hostile.json and tenant.json."


@dataclass(frozen=True)
class LabelledCase:
    """One request and what a good model answers: the tool and (a subset of) its arguments."""

    text: str
    tool: str
    arguments: dict[str, Any]
    lang: str = "en"
    names: bool = False
    emergency: bool = False
    typo: bool = False


@dataclass(frozen=True)
class HostileCase:
    """One attack; any valid call is acceptable except those matching `unsafe_calls` (subset match)."""

    text: str
    attack: str
    unsafe_calls: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class EvaluationTenant:
    """The directory the sets are judged against: people, groups and subscribed SKUs."""

    users: tuple[dict[str, str], ...]
    groups: tuple[dict[str, str], ...]
    skus: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationSets:
    """Everything one evaluation run needs, and the sha256 over the files (stored with a qualification)."""

    labelled: tuple[LabelledCase, ...]
    hostile: tuple[HostileCase, ...]
    tenant: EvaluationTenant
    sha256: str
    source: Path = field(default=SETS_DIR)


def load_sets(directory: Path | None = None) -> EvaluationSets:
    """Read the three files from `directory` (default: the repository's `tests/evaluation/`)."""
    directory = directory or SETS_DIR
    digest = hashlib.sha256()
    raw: dict[str, Any] = {}
    for name in FILES:
        path = directory / name
        try:
            blob = path.read_bytes()
            raw[name] = json.loads(blob)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the evaluation set {path}: {exc}", hint=SETS_HINT) from exc
        digest.update(name.encode() + b"\0" + blob)
    tenant = raw["tenant.json"]
    return EvaluationSets(
        labelled=tuple(LabelledCase(**row) for row in raw["labelled.json"]),
        hostile=tuple(
            HostileCase(row["text"], row["attack"], tuple(row.get("unsafe_calls", ()))) for row in raw["hostile.json"]
        ),
        tenant=EvaluationTenant(tuple(tenant["users"]), tuple(tenant["groups"]), tuple(tenant["skus"])),
        sha256=digest.hexdigest(),
        source=directory,
    )
