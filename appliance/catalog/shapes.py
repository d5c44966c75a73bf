"""The string shapes a tool argument may have. Every one is bounded, in its pattern and its maxLength.

Patterns are written in a deliberately small regex dialect (`^`, then a sequence of `[class]{m,n}`
atoms and literal characters, then `$`) so that the grammar compiler can translate them exactly into
every constraint language (JSON-schema pattern, Lark, GBNF) and compute the longest output.
A field marked `grounded` names a directory object: per message, the grammar only lets the model
write values that appear in the conversation, so it cannot invent a user or a group.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

GROUNDED_KEY = "x-grounded"

UPN_PATTERN = r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9.-]{1,189}$"
REF_PATTERN = r"^[A-Za-z0-9 ._%+'@\u00c0-\u024f-]{1,254}$"
"""A directory reference as a person writes it: an address, or a display name ("Lee Vere"). The appliance
resolves a name to exactly one address through the directory before anything runs."""
GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SKU_PATTERN = r"^[A-Z0-9_]{1,40}$"
LABEL_PATTERN = r"^[A-Za-z0-9 .,&()/'_-]{1,64}$"
SEARCH_PATTERN = r"^[A-Za-z0-9 .@_'-]{1,64}$"
REPLY_TEXT_MAX = 280
REPLY_TEXT_PATTERN = r"^[ !#-\[\]-~\u00a0-\u024f\u2013\u2014\u2018\u2019\u201c\u201d\u2026]{1,280}$"


def _grounded(kind: str) -> dict[str, Any]:
    return {GROUNDED_KEY: kind}


Upn = Annotated[
    str,
    Field(
        max_length=254,
        pattern=REF_PATTERN,
        description="A user's address or name, as the conversation mentions it",
        json_schema_extra=_grounded("user"),
    ),
]
"""A user, by user principal name or display name (grounded; a name is resolved before anything runs)."""

GroupMail = Annotated[
    str,
    Field(
        max_length=254,
        pattern=REF_PATTERN,
        description="A group's mail address or name, as the conversation mentions it",
        json_schema_extra=_grounded("group"),
    ),
]
"""A group, by mail address or display name (grounded; a name is resolved before anything runs)."""

SkuPartNumber = Annotated[
    str,
    Field(
        max_length=40,
        pattern=SKU_PATTERN,
        description="A license SKU part number the tenant subscribes to, e.g. ENTERPRISEPACK",
        json_schema_extra=_grounded("sku"),
    ),
]
"""A license SKU part number such as ENTERPRISEPACK or SPE_E5 (grounded on the tenant's subscriptions and
the license names the conversation mentions, `catalog/licensing.py`)."""

Label = Annotated[str, Field(max_length=64, pattern=LABEL_PATTERN)]
"""A short directory attribute value (job title, department, office)."""

SearchText = Annotated[str, Field(max_length=64, pattern=SEARCH_PATTERN, json_schema_extra=_grounded("search"))]
"""A name fragment or address to search the directory for (grounded: a word or name of the message,
`grammar/mentions.search_terms`)."""

ReplyText = Annotated[str, Field(max_length=REPLY_TEXT_MAX, pattern=REPLY_TEXT_PATTERN)]
"""Free text for the user: at most 280 characters of printable ASCII (no quote, no backslash, so no
JSON escapes), Latin letters with accents and typographic punctuation. No control, zero-width or
bidi characters can reach a person through the Aid's replies."""
