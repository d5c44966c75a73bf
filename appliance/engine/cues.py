"""Situation and action cues: the words that say what a message asks, read from `cues.toml` (data).

A cue is a few stems and phrases in English, German and French that name one tool: an action ("disable",
"melde ... ab", "déconnecte") or a situation ("she was let go", "sein Handy wurde gestohlen", "compte
piraté"). `CueLexicon.read` says which cues a message matches and whether it is a question or a look-up;
`router.IntentRouter` combines that with the example bank's nearest neighbours. Matching is on a normalised
message (lower case, accents folded, hyphens and apostrophes as spaces, addresses as one placeholder, so
"leaver@contoso.com" is no leaver); a stem marked "~" in the file also matches with one typo, unless the
word is an exact match of another stem ("reactivate" is never a typo of "deactivate").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

_ADDRESS = re.compile(r"\S+@\S+")
_SPACING = re.compile(r"[\s\-_'’`]+")
_WORD = re.compile(r"\w+")
CUES_FILE = "cues.toml"


def cue_text(text: str) -> str:
    """`text` as cues are written: addresses as "qaddress", lower case, accents folded, hyphens and
    apostrophes as single spaces."""
    folded = unicodedata.normalize("NFKD", _ADDRESS.sub(" qaddress ", text).casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _SPACING.sub(" ", plain).strip()


def one_edit_apart(a: str, b: str) -> bool:
    """True if `a` and `b` differ by at most one letter missing, added, changed, or two neighbours swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


@dataclass(frozen=True)
class Terms:
    """Stems (word beginnings; `fuzzy` ones also with one typo) and phrases (regular expressions)."""

    stems: tuple[str, ...]
    fuzzy: tuple[str, ...]
    phrases: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, stems: list[str], phrases: list[str]) -> Terms:
        """Read a file entry: a stem ending in "~" is fuzzy."""
        return cls(
            stems=tuple(s.rstrip("~") for s in stems),
            fuzzy=tuple(s[:-1] for s in stems if s.endswith("~")),
            phrases=tuple(re.compile(rf"(?<!\w)(?:{p})") for p in phrases),
        )

    def exact(self, text: str) -> bool:
        """Some stem begins a word of `text`, or some phrase matches from a word start."""
        return any(re.search(rf"(?<!\w){re.escape(s)}", text) for s in self.stems) or any(
            p.search(text) for p in self.phrases
        )

    def typo(self, words: list[str]) -> bool:
        """Some fuzzy stem is one typo away from the beginning of one of `words`."""
        return any(
            one_edit_apart(word[: len(stem) + extra], stem)
            for stem in self.fuzzy
            for word in words
            for extra in (-1, 0, 1)
            if len(word) >= len(stem) - 1
        )


@dataclass(frozen=True)
class Cue:
    """One entry of the file: its tool, whether it is an action or a situation, what it matches."""

    name: str
    kind: str
    tool: str
    terms: Terms
    also: Terms | None


@dataclass(frozen=True)
class Reading:
    """What the cues say about one message."""

    question: bool
    actions: frozenset[str]
    situations: frozenset[str]


class CueLexicon:
    """The cues of `cues.toml`, and the question/look-up signal."""

    def __init__(self, data: dict[str, Any]) -> None:
        question = data["question"]
        self._openings = tuple(question["openings"]) + tuple(question["lookups"])
        self._requests = tuple(question["requests"])
        self._greetings = frozenset(question["greetings"])
        self.cues = tuple(
            Cue(
                name=entry["name"],
                kind=entry["kind"],
                tool=entry["tool"],
                terms=Terms.parse(entry.get("stems", []), entry.get("phrases", [])),
                also=Terms.parse(entry.get("also_stems", []), entry.get("also_phrases", []))
                if "also_stems" in entry or "also_phrases" in entry
                else None,
            )
            for entry in data["cue"]
        )
        for cue in self.cues:
            if cue.kind not in ("action", "situation"):
                raise ValueError(f"cue {cue.name!r}: kind must be 'action' or 'situation', not {cue.kind!r}")
        self._all_stems = tuple(s for cue in self.cues for s in cue.terms.stems)

    @classmethod
    def load(cls) -> CueLexicon:
        """The lexicon shipped with the engine (`appliance/engine/cues.toml`)."""
        return cls(tomllib.loads(resources.files(__package__).joinpath(CUES_FILE).read_text("utf-8")))

    def is_question(self, text: str) -> bool:
        """A question or a look-up order, not a polite order ("can you reset it?" is an order)."""
        plain = cue_text(text)
        words = plain.split()
        while words and words[0] in self._greetings:
            words.pop(0)
        opening = " ".join(words)
        asks = text.rstrip().endswith("?") or any(
            opening == o or opening.startswith(o + " ") for o in self._openings
        )
        padded = f" {plain} "
        return asks and not any(f" {r} " in padded for r in self._requests)

    def read(self, text: str) -> Reading:
        """Which action and situation cues `text` matches, and whether it asks rather than orders."""
        plain = cue_text(text)
        unclaimed = [w for w in _WORD.findall(plain) if not any(w.startswith(s) for s in self._all_stems)]
        actions: set[str] = set()
        situations: set[str] = set()
        for cue in self.cues:
            if not (cue.terms.exact(plain) or cue.terms.typo(unclaimed)):
                continue
            if cue.also is not None and not (cue.also.exact(plain) or cue.also.typo(unclaimed)):
                continue
            (actions if cue.kind == "action" else situations).add(cue.tool)
        return Reading(self.is_question(text), frozenset(actions), frozenset(situations))
