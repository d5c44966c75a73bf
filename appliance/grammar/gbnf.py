"""JSON-schema union -> GBNF (llama.cpp's grammar format), for reference and for other runtimes.

Only the subset the catalog produces is supported (fixed-order objects, anyOf, const/enum, strings
with dialect patterns); anything else is a GrammarError, never a silently wrong grammar.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.errors import GrammarError
from appliance.grammar.pattern import parse_pattern


def to_gbnf(schema: dict[str, Any]) -> str:
    """Compact-JSON GBNF for the union; `root` is the start rule."""
    rules: dict[str, str] = {}
    names = []
    for variant in schema["anyOf"]:
        tool = variant["properties"]["tool"]["const"]
        rule = "call-" + tool.replace("_", "-")
        rules[rule] = _value(variant, rule, rules)
        names.append(rule)
    lines = ["root ::= " + " | ".join(names)]
    lines += [f"{name} ::= {body}" for name, body in rules.items()]
    return "\n".join(lines) + "\n"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(schema: dict[str, Any], name: str, rules: dict[str, str]) -> str:
    if "const" in schema:
        return _lit(json.dumps(schema["const"], ensure_ascii=False))
    if "enum" in schema:
        return "(" + " | ".join(_lit(json.dumps(v, ensure_ascii=False)) for v in schema["enum"]) + ")"
    kind = schema.get("type")
    if kind == "object":
        parts, first = [_lit("{")], True
        for key, prop in schema.get("properties", {}).items():
            sub = f"{name}-{key.replace('_', '-').lower()}"
            rules[sub] = _value(prop, sub, rules)
            parts.append(_lit(("" if first else ",") + json.dumps(key) + ":"))
            parts.append(sub)
            first = False
        parts.append(_lit("}"))
        return " ".join(parts)
    if kind == "string" and "pattern" in schema:
        return '"\\"" ' + _pattern(schema["pattern"]) + ' "\\""'
    raise GrammarError(f"GBNF: unsupported schema at {name}: {json.dumps(schema)[:120]}")


def _pattern(pattern: str) -> str:
    out = []
    for atom in parse_pattern(pattern):
        if atom.literal is not None:
            out.append(_lit(atom.literal))
            continue
        cls = atom.char_class or ""
        admits_quote = ('"' not in cls or "\\\\" not in cls) if atom.negated else ('"' in cls or "\\\\" in cls)
        if admits_quote:
            raise GrammarError(f"pattern class [{cls}] must not admit a quote or a backslash (JSON escapes)")
        char = f"[{cls}]"
        out.append(f"{char}{{{atom.min},{atom.max}}}")
    return " ".join(out)
