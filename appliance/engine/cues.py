"""Situation and action cues: the words that say what a message asks, read from `cues.toml` (data).

A cue is a few stems and phrases in English, German and French that name one tool: an action ("disable",
"melde ... ab", "déconnecte") or a situation ("she was let go", "sein Handy wurde gestohlen", "compte
piraté"). `CueLexicon.read` says which cues a message matches and whether it is a question or a look-up;
`router.IntentRouter` combines that with the example bank's nearest neighbours. Matching is on a normalised
message (lower case, accents folded, hyphens and apostrophes as spaces, addresses as one placeholder, so
"leaver@contoso.com" is no leaver); a stem marked "~" in the file also matches with one typo, unless the
word is an exact match of another stem ("reactivate" is never a typo of "deactivate"). An action's words do
not count when capitalised in mid-clause: "move Tom to Block C" names a value, "the Night Sessions group" a
group (German nouns, capitalised anyway, are listed apart as `nouns`). A look-up order counts in any
clause: "Tom lost his phone, show me his sign-ins" asks to see.
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
KINDS = ("action", "situation", "lookup")


def cue_text(text: str, *, fold_case: bool = True) -> str:
    """`text` as cues are written: addresses as "qaddress", lower case (unless not `fold_case`), accents
    folded, hyphens and apostrophes as single spaces."""
    masked = _ADDRESS.sub(" qaddress ", text)
    folded = unicodedata.normalize("NFKD", masked.casefold() if fold_case else masked)
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


def _title(token: str) -> bool:
    """A word written with a capital and then lower case ("Block", not "LOCK" or "iPad")."""
    word = _WORD.search(token)
    return word is not None and word.group(0)[0].isupper() and any(c.islower() for c in word.group(0)[1:])


@dataclass(frozen=True)
class Message:
    """A message normalised for matching (`plain`, its space-separated `tokens`) and which tokens are
    capitalised in the middle of a clause (`proper`: a name, place or value such as "Block C" or "Session
    Lead", not an order)."""

    plain: str
    tokens: tuple[str, ...]
    proper: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Message:
        """Normalise `text` and mark its mid-clause capitalised words."""
        plain = cue_text(text)
        tokens = tuple(plain.split(" "))
        cased = cue_text(text, fold_case=False).split(" ")
        proper = frozenset(
            i for i, token in enumerate(cased)
            if i > 0 and _title(token) and not cased[i - 1].endswith(_CLAUSE_ENDS)
        ) if len(cased) == len(tokens) else frozenset()
        return cls(plain, tokens, proper)

    def token_at(self, position: int) -> int:
        """The index of the token a character position of `plain` falls in."""
        return self.plain.count(" ", 0, position)


_CLAUSE_ENDS = (".", "!", "?", ":", ";", ",", "(", '"')


@dataclass(frozen=True)
class Terms:
    """Stems (word beginnings; `fuzzy` ones also with one typo) and phrases (regular expressions)."""

    stems: tuple[re.Pattern[str], ...]
    fuzzy: tuple[str, ...]
    phrases: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, stems: list[str], phrases: list[str]) -> Terms:
        """Read a file entry: a stem ending in "~" is fuzzy."""
        return cls(
            stems=tuple(re.compile(rf"(?<!\w){re.escape(s.rstrip('~'))}") for s in stems),
            fuzzy=tuple(s[:-1] for s in stems if s.endswith("~")),
            phrases=tuple(re.compile(rf"(?<!\w)(?:{p})") for p in phrases),
        )

    def found(self, message: Message, unclaimed: frozenset[int], skip: frozenset[int]) -> bool:
        """Some stem begins a word, some phrase matches from a word start, or some fuzzy stem is one typo
        from the beginning of an `unclaimed` token (one no stem of the lexicon matches exactly); matches
        that start in a token of `skip` do not count."""
        for pattern in self.stems + self.phrases:
            if any(message.token_at(m.start()) not in skip for m in pattern.finditer(message.plain)):
                return True
        for index in unclaimed - skip:
            word = _WORD.search(message.tokens[index])
            if word and any(
                one_edit_apart(word.group(0)[: len(stem) + extra], stem)
                for stem in self.fuzzy
                for extra in (-1, 0, 1)
                if len(word.group(0)) >= len(stem) - 1
            ):
                return True
        return False


@dataclass(frozen=True)
class Cue:
    """One entry of the file: its tool, whether it is an action or a situation, what it matches. An
    action's `terms` do not count on a capitalised word in mid-clause (a name or value: "move Tom to Block
    C"); its `nouns` (German nouns are capitalised) and a situation's terms count anywhere."""

    name: str
    kind: str
    tool: str
    terms: Terms
    nouns: Terms
    also: Terms | None

    def matches(self, message: Message, unclaimed: frozenset[int]) -> bool:
        """Whether `message` carries this cue."""
        skip = message.proper if self.kind == "action" else frozenset()
        if not (self.terms.found(message, unclaimed, skip) or self.nouns.found(message, unclaimed, frozenset())):
            return False
        return self.also is None or self.also.found(message, unclaimed, frozenset())


@dataclass(frozen=True)
class Reading:
    """What the cues say about one message: whether it asks, and the tools its action, situation and
    look-up cues name."""

    question: bool
    actions: frozenset[str]
    situations: frozenset[str]
    lookups: frozenset[str] = frozenset()


class CueLexicon:
    """The cues of `cues.toml`, and the question/look-up signal."""

    def __init__(self, data: dict[str, Any]) -> None:
        question = data["question"]
        self._openings = tuple(question["openings"]) + tuple(question["lookups"])
        self._lookups = tuple(question["lookups"])
        self._requests = tuple(question["requests"])
        self._greetings = frozenset(question["greetings"])
        self.cues = tuple(
            Cue(
                name=entry["name"],
                kind=entry["kind"],
                tool=entry["tool"],
                terms=Terms.parse(entry.get("stems", []), entry.get("phrases", [])),
                nouns=Terms.parse(entry.get("nouns", []), entry.get("noun_phrases", [])),
                also=Terms.parse(entry.get("also_stems", []), entry.get("also_phrases", []))
                if "also_stems" in entry or "also_phrases" in entry
                else None,
            )
            for entry in data["cue"]
        )
        for cue in self.cues:
            if cue.kind not in KINDS:
                raise ValueError(f"cue {cue.name!r}: kind must be one of {', '.join(KINDS)}, not {cue.kind!r}")
        self._stems = tuple(
            stem for cue in self.cues for terms in (cue.terms, cue.nouns, cue.also) if terms for stem in terms.stems
        )

    @classmethod
    def load(cls) -> CueLexicon:
        """The lexicon shipped with the engine (`appliance/engine/cues.toml`)."""
        return cls(tomllib.loads(resources.files(__package__).joinpath(CUES_FILE).read_text("utf-8")))

    def is_question(self, text: str) -> bool:
        """A question (ends with "?" or opens with a question word) or a look-up order at the start of any
        clause ("..., show me her sign-ins"), unless it is a polite order ("can you reset it?")."""
        plain = cue_text(text)
        clauses = [self._without_greetings(c) for c in re.split(r"[.!?:;,]+", plain)]
        asks = text.rstrip().endswith("?") or _opens(clauses[0], self._openings) or any(
            _opens(clause, self._lookups) for clause in clauses
        )
        padded = f" {plain} "
        return asks and not any(f" {r} " in padded for r in self._requests)

    def _without_greetings(self, clause: str) -> str:
        words = clause.split()
        while words and words[0] in self._greetings:
            words.pop(0)
        return " ".join(words)

    def read(self, text: str) -> Reading:
        """Which action and situation cues `text` matches, and whether it asks rather than orders."""
        message = Message.of(text)
        unclaimed = frozenset(
            i for i, token in enumerate(message.tokens) if not any(stem.match(token) for stem in self._stems)
        )
        matched = [cue for cue in self.cues if cue.matches(message, unclaimed)]
        return Reading(
            self.is_question(text),
            frozenset(cue.tool for cue in matched if cue.kind == "action"),
            frozenset(cue.tool for cue in matched if cue.kind == "situation"),
            frozenset(cue.tool for cue in matched if cue.kind == "lookup"),
        )


def _opens(clause: str, openings: tuple[str, ...]) -> bool:
    return any(clause == o or clause.startswith(o + " ") for o in openings)
