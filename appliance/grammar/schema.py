"""Catalog -> one JSON-schema union `{"tool": <name>, "arguments": {...}}`.

With a `Grounding`, every argument that names a directory object is narrowed to the values that
appear in the conversation, and a tool that needs a value nobody mentioned drops out of the union:
the model then cannot invent a user, and a request that names nobody can only get a `reply`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from appliance.catalog import Catalog
from appliance.catalog.shapes import GROUNDED_KEY, UPN_PATTERN

_UPN_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
MAX_GROUNDED_VALUES = 16


@dataclass(frozen=True)
class Grounding:
    """The directory names a conversation mentions, by kind (`user`, `group`)."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: list[str]) -> Grounding:
        """Collect address-shaped names from the conversation (newest last; at most 16, newest kept)."""
        seen: list[str] = []
        for text in texts:
            for match in _UPN_IN_TEXT.finditer(text):
                value = match.group(0).strip(".").lower()
                if value in seen:
                    seen.remove(value)
                if re.fullmatch(UPN_PATTERN[1:-1], value) and len(value) <= 254:
                    seen.append(value)
        names = tuple(seen[-MAX_GROUNDED_VALUES:])
        # A Teams message cannot tell us whether an address is a user or a group, so both kinds
        # may use every address; Graph resolves it and a wrong kind is a clear 404.
        return cls(values={"user": names, "group": names})


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
