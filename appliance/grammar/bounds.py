"""The longest output a grammar admits, in bytes, and so the `max_tokens` that never cuts one short.

Every token the grammar can emit decodes to at least one byte, so a call of B bytes takes at most
B tokens; one more is for the end-of-sequence token.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.errors import GrammarError
from appliance.grammar.pattern import max_encoded_bytes


def max_output_bytes(schema: dict[str, Any]) -> int:
    """The most bytes any compact-JSON value matching `schema` can take."""
    if "anyOf" in schema:
        return max(max_output_bytes(v) for v in schema["anyOf"])
    if "const" in schema:
        return _encoded(schema["const"])
    if "enum" in schema:
        return max(_encoded(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        inner = sum(_encoded(k) + 1 + max_output_bytes(p) for k, p in props.items())
        return 2 + inner + max(len(props) - 1, 0)
    if kind == "string" and "pattern" in schema:
        return 2 + max_encoded_bytes(schema["pattern"])
    raise GrammarError(f"cannot bound schema {json.dumps(schema)[:120]}")


def max_tokens(schema: dict[str, Any]) -> int:
    """The token budget that fits every valid output plus the end-of-sequence token."""
    return max_output_bytes(schema) + 1


def _encoded(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
