"""The catalog registry: checks every ToolSpec when the module is imported, and looks tools up.

Refused at import time: duplicate or malformed names, a state-changing tool without a summary
template, an unbounded string, a free number. There is no way to add a tool at run time. A call is
validated strictly, each argument only in its own JSON type: pydantic's strict mode refuses `"7"` for an
integer and `1` for a string, but its Literal validator compares with `==`, so JSON `true` would pass as the
Literal 1 and `7.0` as 7 (True == 1 == 1.0 in Python) and a model emitting `"days": true` would get a one-day
query; `literal_type_mismatch` refuses those. JSON Schema agrees that `true` is not 1 (the published schema
refuses it); it compares numbers by value, so there `7.0` is 7, and only validate_call refuses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from appliance.catalog.spec import ToolSpec
from appliance.catalog.tools import ALL_TOOLS
from appliance.errors import CatalogError, ToolArgumentsError, UnknownToolError
from appliance.types import ToolCall

REPLY_TOOL = "reply"


class Catalog(Mapping[str, ToolSpec]):
    """An immutable, validated set of tools, in prompt order."""

    def __init__(self, tools: Iterable[ToolSpec]) -> None:
        self._tools: dict[str, ToolSpec] = {}
        for spec in tools:
            spec.check()
            if spec.name in self._tools:
                raise CatalogError(f"tool {spec.name} is registered twice")
            self._tools[spec.name] = spec
        if REPLY_TOOL not in self._tools:
            raise CatalogError("the catalog must contain the `reply` tool (the model's way to ask or answer)")

    def __getitem__(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(f"unknown tool {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def without(self, disabled: Iterable[str]) -> Catalog:
        """The catalog minus the tools a tenant disabled (unknown names are an error)."""
        disabled = set(disabled)
        unknown = disabled - set(self._tools)
        if unknown:
            raise UnknownToolError(f"cannot disable unknown tools {sorted(unknown)}")
        if REPLY_TOOL in disabled:
            raise CatalogError("the `reply` tool cannot be disabled")
        return Catalog(spec for name, spec in self._tools.items() if name not in disabled)

    def permissions(self) -> list[str]:
        """Every delegated Graph scope the tools of this catalog need, sorted (what the Aid asks consent for)."""
        return sorted({p for spec in self._tools.values() for p in spec.permissions})

    def fingerprint(self) -> str:
        """sha256 over every tool's name, schema and metadata: keys compiled-grammar caches."""
        blob = json.dumps([describe(spec) for spec in self._tools.values()], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def validate_call(self, tool: str, arguments: Any) -> ToolCall:
        """Validate a proposed call against the catalog; return it in canonical form or raise."""
        spec = self[tool]
        if not isinstance(arguments, dict):
            raise ToolArgumentsError(f"arguments of {tool} must be an object")
        mismatch = literal_type_mismatch(spec.arguments, arguments)  # JSON true is not 1, nor 7.0 the integer 7
        if mismatch is not None:
            raise ToolArgumentsError(f"{tool}: {mismatch[0]}: {mismatch[1]}")
        try:
            parsed = spec.arguments.model_validate(arguments, strict=True)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            raise ToolArgumentsError(f"{tool}: {where}: {first['msg']}") from exc
        return ToolCall(tool=tool, arguments=parsed.model_dump(mode="json"))


def literal_type_mismatch(model: type[BaseModel], arguments: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first argument equal to one of its Literal's values only across types (JSON `true` for 1, `7.0` for
    7): (its name, the refusal, in the words of pydantic's own Literal refusal plus what came)."""
    for name, field in model.model_fields.items():
        if name not in arguments or get_origin(field.annotation) is not Literal:
            continue
        allowed = get_args(field.annotation)
        value = arguments[name]
        if value in allowed and not any(type(value) is type(choice) and value == choice for choice in allowed):
            words = [repr(choice) for choice in allowed]
            listed = f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]
            return name, f"Input should be {listed} (got {json.dumps(value)})"
    return None


def describe(spec: ToolSpec) -> dict[str, Any]:
    """The public description of a tool (what `appliance catalog --json` prints)."""
    return {
        "name": spec.name,
        "description": spec.description,
        "arguments": spec.arguments_schema(),
        "graph_operation": spec.graph_operation,
        "permission": spec.permission or None,
        "permissions": list(spec.permissions),
        "admin_role": spec.admin_role,
        "changes_state": spec.changes_state,
        "summary_template": spec.summary_template,
    }


DEFAULT_CATALOG = Catalog(ALL_TOOLS)
"""The full catalog, checked when this module is imported."""
