"""An intent router over the example bank: which tool is this message most likely about?

Character n-grams (3 to 5, within words; addresses, name candidates and license names each replaced by
one placeholder) weighted by TF-IDF over the bank; a tool's score is the mean cosine similarity of its
two examples nearest the message (k-nearest neighbours). Character n-grams survive typos ("pasword"),
inflections ("deaktiviere", "désactive") and word order, which word overlap does not. The local engine
keeps only the best-ranked allowed tools in the message's grammar (`engine.route_tools`; by default the
best one: on SmolLM2-135M the router's first choice is right far more often than the model's choice among
three, docs/BENCHMARKS.md); the model still fills every argument under the grounded grammar.

Similarity alone misreads the requests a hospital can least afford to get wrong: "Tom was fired, lock his
account" resembles no example closely, and "which accounts were disabled today?" resembles the disable
examples very closely. So the nearest-neighbour order is combined with the cues of `cues.toml` (words in
English, German and French that name a tool, `cues.py`), in tiers rather than by adding weights, because a
cosine score and a cue are not on one scale and a weight would be one more number tuned to the set it is
measured on:

1. a question or look-up ("is X disabled?", "..., show me his sign-ins") never goes to a state-changing
   tool: those are dropped from the candidates (a question's word "disabled" is no order; "can you
   disable X?" is an order); a look-up cue then puts the read-only tool it names first ("who removed Ivo
   from finance?" asks the audit, "what licences does Mike have?" his account, not the tenant's SKUs);
2. otherwise, action cues ("disable", "sperren", "déconnecte", "sign her out") keep only the tools they
   name; the neighbours order them when several are named;
3. otherwise, a situation cue ("she left", "sein Laptop wurde gestohlen", "compte piraté") puts its tool
   first, unless the neighbours' first choice is a different state change (then the person asked for that
   change and the situation only says why: "Raj left, remove his E5 licence");
4. otherwise the neighbours alone decide.

A cue whose tools are not allowed (the grounded grammar removed them) is ignored. The returned scores stay
the neighbours' similarities; the order carries the decision.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from appliance.catalog import DEFAULT_CATALOG
from appliance.engine.cues import CueLexicon, Reading
from appliance.grammar.mentions import name_candidates

Example = tuple[str, str, dict[str, Any]]
_ADDRESS = re.compile(r"\S+@\S+")
_WORD = re.compile(r"\w+")
_SKU = re.compile(r"\b(?:[EFAG][1-5]|[A-Z][A-Z0-9]*_[A-Z0-9_]+|ENTERPRISE\w*)\b")
GRAM_SIZES = (3, 4, 5)
NEIGHBOURS = 2


def masked(text: str) -> str:
    """Every address, name candidate and license short name replaced by one placeholder word each, so the
    router compares what is asked, not who it is about ("Qui est Tom Becker ?" ~ "Qui est Ben Ode ?")."""
    text = _ADDRESS.sub(" qaddress ", text)
    for name in sorted(name_candidates(text), key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", " qname ", text)
    return _SKU.sub(" qsku ", text)


def normalized(text: str) -> str:
    """Lower case, accents folded, addresses, names and license names as placeholders (`masked`)."""
    folded = unicodedata.normalize("NFKD", masked(text).casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


def grams(text: str) -> Counter[str]:
    """Character n-grams of each word, padded (`<pw`, `rd>`), counted."""
    out: Counter[str] = Counter()
    for word in _WORD.findall(normalized(text)):
        padded = f"<{word}>"
        for size in GRAM_SIZES:
            out.update(padded[i : i + size] for i in range(max(len(padded) - size + 1, 1)))
    return out


def _nearest_mean(similarities: list[float]) -> float:
    """The mean of a tool's `NEIGHBOURS` best similarities (fewer if it has fewer examples): one lucky
    example that shares a word with the message counts less than two that say the same thing."""
    best = sorted(similarities, reverse=True)[:NEIGHBOURS]
    return sum(best) / len(best)


def _state_changing() -> frozenset[str]:
    return frozenset(name for name, spec in DEFAULT_CATALOG.items() if spec.changes_state)


class IntentRouter:
    """Ranks tools for a message by nearest-neighbour TF-IDF cosine over the bank's examples, combined
    with the cue lexicon (module docstring). `state_changing`: the tools a question never goes to (by
    default those of the default catalog that change state)."""

    def __init__(
        self,
        examples: Iterable[Example],
        state_changing: Iterable[str] | None = None,
        cues: CueLexicon | None = None,
    ) -> None:
        self._writes = _state_changing() if state_changing is None else frozenset(state_changing)
        self._cues = CueLexicon.load() if cues is None else cues
        bank = [(grams(message), tool) for message, tool, _ in examples]
        documents = Counter(g for counts, _ in bank for g in counts)
        self._idf = {g: math.log((1 + len(bank)) / (1 + n)) + 1.0 for g, n in documents.items()}
        self._bank = [(self._vector(counts), tool) for counts, tool in bank]

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vector = {g: (1 + math.log(n)) * self._idf.get(g, 0.0) for g, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {g: v / norm for g, v in vector.items() if v}

    def rank(self, text: str, allowed: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """(tool, score) for every tool of the bank (of `allowed` only, if given), best first: the
        neighbours' order (`similar`) as the cues reorder it (module docstring)."""
        return combined(self.similar(text, allowed), self._cues.read(text), self._writes)

    def similar(self, text: str, allowed: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """(tool, score) by nearest-neighbour similarity alone, best first."""
        query = self._vector(grams(text))
        keep = None if allowed is None else set(allowed)
        similarities: dict[str, list[float]] = {}
        for vector, tool in self._bank:
            if keep is not None and tool not in keep:
                continue
            similarities.setdefault(tool, []).append(sum(weight * vector.get(g, 0.0) for g, weight in query.items()))
        scores = {tool: _nearest_mean(values) for tool, values in similarities.items()}
        return sorted(scores.items(), key=lambda item: item[1], reverse=True)

    def top(self, text: str, k: int, allowed: Sequence[str]) -> list[str]:
        """The `k` best-ranked of `allowed` (tools the bank has no example of are ranked last, in order)."""
        ranked = [tool for tool, _ in self.rank(text, allowed)]
        ranked += [tool for tool in allowed if tool not in ranked]
        return ranked[:k]


def combined(ranked: list[tuple[str, float]], reading: Reading, writes: frozenset[str]) -> list[tuple[str, float]]:
    """`ranked` (the neighbours' order) reordered by what the cues read in the message, in tiers: a
    question drops the state-changing tools (and a look-up cue puts the read-only tool it names first:
    "who removed Ivo from finance?" asks the audit), else action cues keep only their tools, else a situation puts
    its tool first unless the neighbours chose another state change. A tier whose tools are all absent
    from `ranked` (not allowed) changes nothing."""
    if reading.question:
        reads = [item for item in ranked if item[0] not in writes] or ranked
        looked_up = [item for item in reads if item[0] in reading.lookups]
        return looked_up + [item for item in reads if item[0] not in reading.lookups]
    named = [item for item in ranked if item[0] in reading.actions]
    if named:
        return named + [item for item in ranked if item[0] not in reading.actions]
    situation = [item for item in ranked if item[0] in reading.situations]
    if situation and ranked:
        first = ranked[0][0]
        if not (first in writes and first not in reading.situations):
            return situation + [item for item in ranked if item[0] not in reading.situations]
    return ranked
