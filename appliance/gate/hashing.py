"""The action hash: what a confirmation is bound to.

It covers the exact tool, its canonical arguments and the summary sentence the person was shown, so a
confirmation can never apply to anything other than what was on the card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical_arguments(arguments: Mapping[str, Any]) -> str:
    """Stable JSON of the arguments (sorted keys, no whitespace), as `ToolCall.canonical_json` writes them."""
    return json.dumps(dict(arguments), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def action_hash(tool: str, arguments: Mapping[str, Any], summary: str) -> str:
    """sha256 (hex) over the tool, the canonical arguments and the summary shown."""
    blob = json.dumps(
        {"tool": tool, "arguments": dict(arguments), "summary": summary},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
