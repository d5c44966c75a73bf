"""JSON-schema union -> Lark for llguidance: one rule per tool, each an inline `%json` schema.

`whitespace_flexible: false` makes llguidance accept compact JSON only, the same language the
outlines backend compiles, so the two engines accept and reject the same outputs.
"""

from __future__ import annotations

import json
from typing import Any

JSON_OPTIONS = {"whitespace_flexible": False}


def to_lark(schema: dict[str, Any]) -> str:
    """A Lark grammar whose language is exactly the compact-JSON union."""
    names, rules = [], []
    for variant in schema["anyOf"]:
        tool = variant["properties"]["tool"]["const"]
        rule = "call_" + tool
        names.append(rule)
        body = json.dumps({"x-guidance": JSON_OPTIONS, **variant}, ensure_ascii=False, sort_keys=False)
        rules.append(f"{rule}: %json {body}")
    return "start: " + " | ".join(names) + "\n" + "\n".join(rules) + "\n"
