"""The small regex dialect of catalog patterns: `^`, a sequence of `[class]{m,n}` atoms and literals, `$`.

Keeping patterns in this dialect is what lets the grammar compiler translate them exactly into
GBNF and compute the longest possible output (so `max_tokens` never cuts a valid call short).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appliance.errors import GrammarError

_ATOM = re.compile(r"\[(?P<cls>(?:\\.|[^\]\\])+)\]\{(?P<min>\d+),(?P<max>\d+)\}|(?P<lit>\\.|[^\[\\{}()|*+?^$])")


@dataclass(frozen=True)
class Atom:
    """One step of a pattern: a character class repeated min..max times, or one literal character."""

    char_class: str | None
    min: int
    max: int
    literal: str | None = None

    @property
    def negated(self) -> bool:
        """True for `[^...]` classes (which admit non-ASCII and so longer encodings)."""
        return bool(self.char_class and self.char_class.startswith("^"))


def parse_pattern(pattern: str) -> tuple[Atom, ...]:
    """Split a catalog pattern into atoms; raise GrammarError for anything outside the dialect."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise GrammarError(f"pattern {pattern!r} must be anchored with ^ and $")
    body, pos, atoms = pattern[1:-1], 0, []
    while pos < len(body):
        match = _ATOM.match(body, pos)
        if not match:
            raise GrammarError(f"pattern {pattern!r}: unsupported syntax at {body[pos:]!r}")
        if match.group("lit") is not None:
            lit = match.group("lit")
            atoms.append(Atom(None, 1, 1, literal=lit[-1] if lit.startswith("\\") else lit))
        else:
            low, high = int(match.group("min")), int(match.group("max"))
            if low > high:
                raise GrammarError(f"pattern {pattern!r}: bad repetition {{{low},{high}}}")
            atoms.append(Atom(match.group("cls"), low, high))
        pos = match.end()
    return tuple(atoms)


def max_encoded_bytes(pattern: str) -> int:
    """The most bytes the *JSON-encoded* string content can take (quotes not included).

    A character in an ASCII class encodes to at most 6 bytes (`\\u00XX`); in a negated class
    (which admits any Unicode code point) to at most 12 (an escaped surrogate pair).
    """
    total = 0
    for atom in parse_pattern(pattern):
        if atom.literal is not None:
            total += 6
        else:
            total += atom.max * (12 if atom.negated else 6)
    return total
