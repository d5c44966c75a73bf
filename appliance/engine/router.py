"""An intent router over the example bank: which tools is this message most likely about?

Character n-grams (3 to 5, within words, addresses replaced by one placeholder) weighted by TF-IDF over
the bank; a tool's score is the best cosine similarity between the message and any of its examples
(nearest neighbour). Character n-grams survive typos ("pasword"), inflections ("deaktiviere",
"désactive") and word order, which word overlap does not. The local engine keeps only the best-ranked
allowed tools in the message's grammar (`engine.route_tools`), so a small model chooses among two or
three plausible calls instead of twenty; it still fills every argument under the grounded grammar.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

Example = tuple[str, str, dict[str, Any]]
_ADDRESS = re.compile(r"\S+@\S+")
_WORD = re.compile(r"\w+")
GRAM_SIZES = (3, 4, 5)


def normalized(text: str) -> str:
    """Lower case, accents folded, every address one placeholder word."""
    folded = unicodedata.normalize("NFKD", _ADDRESS.sub(" qaddress ", text.casefold()))
    return "".join(c for c in folded if not unicodedata.combining(c))


def grams(text: str) -> Counter[str]:
    """Character n-grams of each word, padded (`<pw`, `rd>`), counted."""
    out: Counter[str] = Counter()
    for word in _WORD.findall(normalized(text)):
        padded = f"<{word}>"
        for size in GRAM_SIZES:
            out.update(padded[i : i + size] for i in range(max(len(padded) - size + 1, 1)))
    return out


class IntentRouter:
    """Ranks tools for a message by nearest-neighbour TF-IDF cosine over the bank's examples."""

    def __init__(self, examples: Iterable[Example]) -> None:
        bank = [(grams(message), tool) for message, tool, _ in examples]
        documents = Counter(g for counts, _ in bank for g in counts)
        self._idf = {g: math.log((1 + len(bank)) / (1 + n)) + 1.0 for g, n in documents.items()}
        self._bank = [(self._vector(counts), tool) for counts, tool in bank]

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        vector = {g: (1 + math.log(n)) * self._idf.get(g, 0.0) for g, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {g: v / norm for g, v in vector.items() if v}

    def rank(self, text: str, allowed: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """(tool, score) for every tool of the bank (of `allowed` only, if given), best first."""
        query = self._vector(grams(text))
        keep = None if allowed is None else set(allowed)
        best: dict[str, float] = {}
        for vector, tool in self._bank:
            if keep is not None and tool not in keep:
                continue
            score = sum(weight * vector.get(g, 0.0) for g, weight in query.items())
            best[tool] = max(best.get(tool, 0.0), score)
        return sorted(best.items(), key=lambda item: item[1], reverse=True)

    def top(self, text: str, k: int, allowed: Sequence[str]) -> list[str]:
        """The `k` best-ranked of `allowed` (tools the bank has no example of are ranked last, in order)."""
        ranked = [tool for tool, _ in self.rank(text, allowed)]
        ranked += [tool for tool in allowed if tool not in ranked]
        return ranked[:k]
