"""The default constraint backend: llguidance, through its llama.cpp tokenizer binding.

Compiling a grammar takes milliseconds, so a fresh grammar is built for every message (grounding).
The tokenizer is built once per model (~1 s) and shared.
"""

from __future__ import annotations

import llama_cpp  # noqa: F401  (import order: llama_cpp before numpy)
import llguidance
import llguidance.llamacpp
import numpy as np

from appliance.engine.constraint import apply_bitmask
from appliance.engine.runtime import LlamaRuntime
from appliance.errors import ConstraintViolation, GrammarError


class LLGuidanceState:
    """One output in progress under an llguidance matcher."""

    def __init__(self, matcher: llguidance.LLMatcher, n_vocab: int) -> None:
        self._matcher = matcher
        self._mask = np.full((n_vocab + 31) // 32, -1, dtype=np.int32)

    def accepts(self, token: int) -> bool:
        return self._matcher.validate_tokens([token]) == 1

    def advance(self, token: int) -> None:
        if not self._matcher.consume_token(token):
            raise ConstraintViolation(f"llguidance refused token {token}: {self._matcher.get_error()}")

    def mask_logits(self, logits: np.ndarray) -> None:
        self._matcher.unsafe_compute_mask_ptr(self._mask.ctypes.data, self._mask.nbytes)
        apply_bitmask(logits, self._mask)

    def forced_tokens(self) -> list[int]:
        return list(self._matcher.compute_ff_tokens())

    def is_finished(self) -> bool:
        return bool(self._matcher.is_stopped())


class LLGuidanceConstraint:
    """A Lark grammar compiled by llguidance for one model's vocabulary."""

    backend = "llguidance"

    def __init__(self, tokenizer: llguidance.LLTokenizer, lark: str, n_vocab: int) -> None:
        self._tokenizer = tokenizer
        self._grammar = llguidance.LLMatcher.grammar_from_lark(lark)
        is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(self._grammar, tokenizer)
        if is_error:
            raise GrammarError(f"llguidance rejected the grammar: {messages[0]}")
        self._n_vocab = n_vocab

    def start(self) -> LLGuidanceState:
        matcher = llguidance.LLMatcher(self._tokenizer, self._grammar, log_level=0)
        if matcher.is_error():
            raise GrammarError(f"llguidance could not start the grammar: {matcher.get_error()}")
        return LLGuidanceState(matcher, self._n_vocab)


def llguidance_tokenizer(runtime: LlamaRuntime) -> llguidance.LLTokenizer:
    """Build llguidance's view of the model's vocabulary (expensive: build once per model)."""
    return llguidance.llamacpp.lltokenizer_from_vocab(runtime.vocab, n_vocab=runtime.n_vocab)
