"""Catalog -> one JSON-schema union `{"tool": <name>, "arguments": {...}}`.

With a `Grounding`, every argument that names a directory object or a license is narrowed to the
values the conversation mentions, by kind, and a tool that needs a value nobody mentioned drops out of
the union: the model then cannot invent a user, a group or a SKU, and a request that names nobody can
only get a `reply`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.catalog import Catalog
from appliance.catalog.licensing import skus_meant
from appliance.catalog.shapes import GROUNDED_KEY, UPN_PATTERN
from appliance.grammar.mentions import addresses, name_candidates, search_terms
from appliance.types import Mentions

MAX_GROUNDED_VALUES = 16


@dataclass(frozen=True)
class Grounding:
    """The values each grounded kind (`user`, `group`, `sku`) may take in this conversation."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: list[str], subscribed: tuple[str, ...] | None = None) -> Grounding:
        """Without a directory: every address and every name candidate may be a user or a group (newest 16
        kept); SKUs are the part numbers the texts mean, kept to `subscribed` when it is known."""
        seen: list[str] = []
        for text in texts:
            for value in [*addresses(text), *name_candidates(text)]:
                if value in seen:
                    seen.remove(value)
                if len(value) <= 254 and ("@" not in value or re.fullmatch(UPN_PATTERN[1:-1], value)):
                    seen.append(value)
        names = tuple(seen[-MAX_GROUNDED_VALUES:])
        return cls(values={"user": names, "group": names, "sku": skus_meant(texts, subscribed),
                           "search": _searchable(texts)})

    @classmethod
    def from_mentions(cls, mentions: Mentions, texts: Sequence[str] = ()) -> Grounding:
        """What the directory sorted by kind (`orchestrator/naming.py`), newest 16 of each kept; a search
        may look for a word or name of the newest of `texts`."""
        return cls(values={"user": mentions.users[-MAX_GROUNDED_VALUES:],
                           "group": mentions.groups[-MAX_GROUNDED_VALUES:],
                           "sku": mentions.skus[-MAX_GROUNDED_VALUES:],
                           "search": _searchable(texts)})


def _searchable(texts: Sequence[str]) -> tuple[str, ...]:
    """The search terms of the newest text (`mentions.search_terms`); `_ground` keeps those the pattern allows."""
    return tuple(search_terms(texts[-1])[:MAX_GROUNDED_VALUES]) if texts else ()


def tool_call_schema(catalog: Catalog, grounding: Grounding | None = None) -> dict[str, Any]:
    """The JSON schema every model output must match: `anyOf` one object per enabled tool."""
    variants = []
    for spec in catalog.values():
        arguments = _ground(spec.arguments_schema(), grounding)
        if arguments is None:
            continue
        variants.append(
            {
                "type": "object",
                "properties": {"tool": {"const": spec.name}, "arguments": arguments},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        )
    return {"anyOf": variants}


def _ground(arguments: dict[str, Any], grounding: Grounding | None) -> dict[str, Any] | None:
    properties: dict[str, Any] = {}
    for name, prop in arguments.get("properties", {}).items():
        # The pattern carries the length bound itself (dialect `{m,n}`); maxLength is dropped here
        # because outlines ignores a pattern that comes with maxLength, and the engines must agree.
        prop = {k: v for k, v in prop.items() if k not in {"description", "maxLength"} or "pattern" not in prop}
        prop.pop("description", None)
        kind = prop.pop(GROUNDED_KEY, None)
        if kind is not None and grounding is not None:
            allowed = [v for v in grounding.values.get(kind, ()) if re.fullmatch(prop["pattern"][1:-1], v)]
            if not allowed:
                return None
            prop = {"type": "string", "enum": allowed}
        properties[name] = prop
    out = dict(arguments, properties=properties)
    if not properties:
        out.pop("required", None)
    return out
