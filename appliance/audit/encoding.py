"""Strict base64 for signed documents: one canonical spelling of a value of one exact size."""

from __future__ import annotations

import base64
import binascii


def strict_b64(value: object, what: str, size: int) -> bytes:
    """Decode `value`, which must be canonical base64 of exactly `size` bytes (so no character of a signed
    document can change unnoticed). Raises ValueError saying what is wrong with `what`."""
    if not isinstance(value, str):
        raise ValueError(f"{what} is missing")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(raw) != size or base64.b64encode(raw).decode() != value:
        raise ValueError(f"{what} is not a canonical {size}-byte value")
    return raw
