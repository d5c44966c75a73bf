"""Names, not only addresses: "disable Lee Vere", "add Tom to the Finance group".

Before the model runs, `NameResolver.mentions` asks the directory what the conversation names: each
address is a user or a group (so a user address can never fill a group argument), each capitalised name
is offered as a user and/or a group only if the directory has one by that name (a bounded search:
minimal fields, at most six hits), and license names become the tenant's own SKU part numbers. The
model never sees who was found; it may only copy what the person wrote.

After the model runs, `resolve` turns every name it copied into exactly one address: one match -> that
person (the card names them: display name and address); several -> a choice card (at most five, with
department) whose pick continues the same request; none -> said plainly, nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.catalog import Catalog
from appliance.catalog.licensing import skus_meant
from appliance.catalog.shapes import GROUNDED_KEY
from appliance.gate.choices import CHOICES_SHOWN
from appliance.grammar.mentions import addresses, name_candidates
from appliance.ports import Directory
from appliance.types import ContextMessage, DirectoryEntry, Mentions, ToolCall

SEARCH_LIMIT = CHOICES_SHOWN + 1  # one more than a choice card shows, to know when there are more
KINDS = ("user", "group")


@dataclass(frozen=True)
class Resolution:
    """What became of a proposed call's names: resolved (`call`), nobody found, or a choice to make."""

    call: ToolCall | None = None
    labels: dict[str, str] = field(default_factory=dict)
    unknown: str | None = None  # the name nobody has
    unknown_kind: str = "user"
    argument: str | None = None  # the argument a choice is for
    options: tuple[DirectoryEntry, ...] = ()
    more: bool = False  # more matched than a card shows


def grounded_kinds(catalog: Catalog, tool: str) -> dict[str, str]:
    """argument name -> `user` / `group` for the tool's directory arguments."""
    properties = catalog[tool].arguments_schema().get("properties", {})
    return {name: prop[GROUNDED_KEY] for name, prop in properties.items() if prop.get(GROUNDED_KEY) in KINDS}


def unknown_sentence(name: str, kind: str) -> str:
    """What the person hears when a name finds nobody."""
    what = "group" if kind == "group" else "person"
    return (f"I found no {what} called \u201c{name}\u201d in the directory, so nothing was changed. "
            "Check the spelling or give the address.")


def choice_question(name: str, kind: str, more: bool) -> str:
    """The question on a choice card."""
    what = "groups" if kind == "group" else "people"
    extra = f" (more than {CHOICES_SHOWN} match; give the address if yours is not here)" if more else ""
    return f"Several {what} are called \u201c{name}\u201d{extra}. Which one do you mean?"


def label(entry: DirectoryEntry) -> str:
    """How a resolved person or group is named on a card: display name and address."""
    return f"{entry.display_name} ({entry.key})" if entry.display_name else entry.key


class NameResolver:
    """Directory look-ups for one turn (each name is searched once per turn)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._hits: dict[tuple[str, str], list[DirectoryEntry]] = {}

    async def search(self, kind: str, name: str) -> list[DirectoryEntry]:
        """People (`user`) or groups whose name starts with `name` (bounded, cached for the turn)."""
        key = (kind, name.casefold())
        if key not in self._hits:
            find = self.directory.find_groups if kind == "group" else self.directory.find_users
            self._hits[key] = await find(name, SEARCH_LIMIT)
        return self._hits[key]

    async def mentions(self, messages: Sequence[ContextMessage]) -> Mentions:
        """The conversation's addresses, names and license names, sorted by kind through the directory."""
        users: list[str] = []
        groups: list[str] = []
        texts = [m.text for m in messages]
        for address in dict.fromkeys(a for text in texts for a in addresses(text)):
            kind = await self.directory.kind_of(address)
            (groups if kind == "group" else users).append(address)  # unknown addresses: users (Graph says 404)
        unmatched: list[str] = []
        names = [n for m in messages if m.role == "user" for n in name_candidates(m.text)]
        for name in dict.fromkeys(names[-6:]):
            is_user, is_group = bool(await self.search("user", name)), bool(await self.search("group", name))
            users += [name] if is_user else []
            groups += [name] if is_group else []
            unmatched += [] if is_user or is_group else [name]
        if not users and not groups:
            users = unmatched  # so "disable Zorro" can be answered "nobody is called Zorro"
        skus = skus_meant(texts, await self.directory.subscribed_skus())
        return Mentions(users=tuple(users), groups=tuple(groups), skus=skus)

    async def resolve(
        self, catalog: Catalog, call: ToolCall, labels: Mapping[str, str] | None = None
    ) -> Resolution:
        """Every name in `call` replaced by exactly one address, or what stops it (none / several)."""
        arguments: dict[str, Any] = dict(call.arguments)
        named = dict(labels or {})
        for argument, kind in grounded_kinds(catalog, call.tool).items():
            value = str(arguments.get(argument, ""))
            if not value or "@" in value:
                continue
            hits = await self.search(kind, value)
            exact = [h for h in hits if h.display_name.casefold() == value.casefold()]
            chosen = exact if len(exact) == 1 else hits
            if not chosen:
                return Resolution(unknown=value, unknown_kind=kind)
            if len(chosen) > 1:
                return Resolution(call=ToolCall(tool=call.tool, arguments=arguments), labels=named,
                                  argument=argument, options=tuple(chosen[:CHOICES_SHOWN]),
                                  more=len(chosen) > CHOICES_SHOWN)
            arguments[argument] = chosen[0].key
            named[chosen[0].key] = label(chosen[0])
        return Resolution(call=catalog.validate_call(call.tool, arguments), labels=named)
