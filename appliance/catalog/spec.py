"""`ToolSpec`: everything the appliance knows about one tool, in one frozen object."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from appliance.errors import CatalogError

TOOL_NAME_RE = re.compile(r"^(reply|(?:m365|aid)_[a-z]+(?:_[a-z]+)*)$")
MAX_TOOL_NAME = 40


class ToolArguments(BaseModel):
    """Base of every tool's argument model: no extra keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ToolSpec:
    """One catalog tool.

    `graph_operation` is the single Graph call the executor makes, `permission` the least-privileged
    delegated scope, `admin_role` the Entra role the Aid needs for it (None where none is needed).
    A state-changing tool must have a `summary_template`: the exact sentence the requester confirms.
    `target_keys` are the arguments that name the directory object it acts on, the most specific first
    (a membership: the user, then the group); the card shows them and failures name the first.
    `runs_on_graph` is False only for tools the appliance answers itself (`reply`, the audit query).
    """

    name: str
    description: str
    arguments: type[ToolArguments]
    graph_operation: str
    permission: str
    admin_role: str | None
    changes_state: bool
    summary_template: str | None = None
    extra_permissions: tuple[str, ...] = field(default=())
    target_keys: tuple[str, ...] = field(default=())
    runs_on_graph: bool = True

    def arguments_schema(self) -> dict[str, Any]:
        """The argument model's JSON schema, without pydantic's cosmetic `title` keys."""
        return strip_titles(self.arguments.model_json_schema())

    def summary(self, arguments: dict[str, Any]) -> str:
        """Render the action summary (state-changing tools) or a one-line description (read-only)."""
        template = self.summary_template or f"{self.name}: " + ", ".join(f"{k}={{{k}}}" for k in arguments)
        return template.format(**arguments)

    def target(self, arguments: dict[str, Any]) -> str:
        """What the call acts on, for a card: `user`, `group`, or `user in group`; `-` when it names nothing."""
        return " in ".join(str(arguments[key]) for key in self.target_keys if arguments.get(key)) or "-"

    @property
    def permissions(self) -> tuple[str, ...]:
        """Every delegated scope the executor needs (the least-privileged one first)."""
        return (self.permission, *self.extra_permissions) if self.permission else self.extra_permissions

    def check(self) -> None:
        """Raise CatalogError if this spec breaks a catalog rule."""
        if not TOOL_NAME_RE.match(self.name) or len(self.name) > MAX_TOOL_NAME:
            raise CatalogError(
                f"tool name {self.name!r} is malformed (want reply, m365_<area>_<verb> or aid_<area>_<verb>)"
            )
        if not self.description.strip():
            raise CatalogError(f"tool {self.name} has no description")
        if self.changes_state and not self.summary_template:
            raise CatalogError(f"state-changing tool {self.name} has no summary template")
        if self.summary_template:
            fields = {f for _, f, _, _ in string.Formatter().parse(self.summary_template) if f}
            unknown = fields - set(self.arguments.model_fields)
            if unknown:
                raise CatalogError(f"summary template of {self.name} names unknown arguments {sorted(unknown)}")
        check_bounded(self.arguments_schema(), where=self.name)
        unknown_targets = set(self.target_keys) - set(self.arguments.model_fields)
        if unknown_targets:
            raise CatalogError(f"target_keys of {self.name} name unknown arguments {sorted(unknown_targets)}")


def strip_titles(schema: Any) -> Any:
    """Drop pydantic's `title` keys recursively (they carry no constraint)."""
    if isinstance(schema, dict):
        return {k: strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [strip_titles(v) for v in schema]
    return schema


def check_bounded(schema: Any, *, where: str) -> None:
    """Refuse any string without maxLength (or enum/const), any array without maxItems, any $ref."""
    if isinstance(schema, list):
        for item in schema:
            check_bounded(item, where=where)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema or "$defs" in schema:
        raise CatalogError(f"tool {where}: nested models ($ref) are not allowed; keep arguments flat")
    bounded_by_value = "enum" in schema or "const" in schema
    if schema.get("type") == "string" and not bounded_by_value and "maxLength" not in schema:
        raise CatalogError(f"tool {where}: a string argument has no maxLength")
    if schema.get("type") == "string" and "pattern" not in schema and not bounded_by_value:
        raise CatalogError(f"tool {where}: a string argument has no pattern; use a shape from shapes.py")
    if schema.get("type") == "array" and "maxItems" not in schema:
        raise CatalogError(f"tool {where}: an array argument has no maxItems")
    if schema.get("type") in {"integer", "number"} and not bounded_by_value:
        raise CatalogError(f"tool {where}: use a Literal of allowed values instead of a free number")
    for value in schema.values():
        check_bounded(value, where=where)
