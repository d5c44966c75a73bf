"""Reading an inbound activity's body: bounded in size, bounded in nesting, parsed only when asked.

The web layer reads the bytes (never more than the limit), checks the token, and only then parses:
`parse_activity` refuses JSON nested deeper than `MAX_DEPTH` before the JSON parser (whose recursion a
deeply nested body would exhaust) ever sees it, and turns every parsing or deserialising failure into
`BadActivity` (the web layer answers 400).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import StreamReader
from botbuilder.schema import Activity

MAX_DEPTH = 32
"""Deeper than any Teams activity (an Adaptive Card submit value included) ever nests."""
_SPECIAL = re.compile(rb'["\\\[\]{}]')
_QUOTE, _BACKSLASH, _OPEN = ord('"'), ord("\\"), (ord("["), ord("{"))


class BadActivity(ValueError):
    """The body is not a Bot Framework activity; `reason` is a stable code for the ops log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def read_bounded(content: StreamReader, max_bytes: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `max_bytes` (the rest is never buffered)."""
    chunks, size = [], 0
    async for chunk in content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def nesting_depth(raw: bytes, stop_above: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest in `raw`, counting brackets outside strings (one pass over the
    special characters, no recursion, no backtracking); stops early once past `stop_above`."""
    depth = deepest = 0
    in_string, escaped = False, -1
    for match in _SPECIAL.finditer(raw):
        at = match.start()
        char = raw[at]
        if at == escaped:
            continue
        if in_string:
            if char == _BACKSLASH:
                escaped = at + 1
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop_above:
                break
        elif char != _BACKSLASH:
            depth -= 1
    return deepest


def parse_activity(raw: bytes, max_depth: int = MAX_DEPTH) -> Activity:
    """The activity in `raw`, or BadActivity (never any other exception)."""
    if nesting_depth(raw, max_depth) > max_depth:
        raise BadActivity("too_deep")
    try:
        body: Any = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadActivity("not_json") from None
    if not isinstance(body, dict):
        raise BadActivity("not_an_object")
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises its own DeserializationError, TypeError, ...: all mean "not an activity"
        raise BadActivity("not_an_activity") from None
    if activity is None or not isinstance(activity.type, str) or not activity.type:
        raise BadActivity("no_type")
    return activity
