"""The lean decode loop's logic with a scripted runtime and constraint (no model): check-first
masking, fast-forward batching, stopping, and the guarantees around them."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.engine.constraint import apply_bitmask
from appliance.engine.decode import generate
from appliance.errors import ConstraintViolation

VOCAB = 8
EOS = 7


class ScriptedRuntime:
    """Returns logits whose argmax follows `preferred`, and records every decode batch."""

    def __init__(self, preferred: list[int]) -> None:
        self.preferred = list(preferred)
        self.batches: list[list[int]] = []

    def decode(self, tokens: list[int]) -> np.ndarray:
        self.batches.append(list(tokens))
        logits = np.zeros(VOCAB, dtype=np.float32)
        step = len(self.batches) - 1
        favourite = self.preferred[step] if step < len(self.preferred) else EOS
        logits[favourite] = 10.0
        logits[(favourite + 1) % VOCAB] = 5.0  # the runner-up the mask falls back to
        return logits

    def is_end(self, token: int) -> bool:
        return token == EOS

    def detokenize(self, tokens: list[int]) -> str:
        return "".join(chr(ord("a") + t) for t in tokens)


class SequenceConstraint:
    """Accepts exactly `sequence`; tokens in `forced_at` are forced (fast-forward) once reached."""

    def __init__(self, sequence: list[int], forced_at: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.sequence, self.forced_at, self.position, self.masks = sequence, forced_at, 0, 0

    def accepts(self, token: int) -> bool:
        if self.position == len(self.sequence):
            return token == EOS
        return token == self.sequence[self.position]

    def advance(self, token: int) -> None:
        if not self.accepts(token):
            raise ConstraintViolation(f"token {token} refused")
        self.position += 1

    def mask_logits(self, logits: np.ndarray) -> None:
        self.masks += 1
        allowed = self.sequence[self.position] if self.position < len(self.sequence) else EOS
        keep = logits[allowed]
        logits[:] = -np.inf
        logits[allowed] = keep

    def forced_tokens(self) -> list[int]:
        out, at = [], self.position
        while at < len(self.sequence) and at in self.forced_at:
            out.append(self.sequence[at])
            at += 1
        return out

    def is_finished(self) -> bool:
        return self.position == len(self.sequence)


def test_free_generation_stops_at_the_end_token() -> None:
    runtime = ScriptedRuntime([1, 2, 3, EOS])
    out = generate(runtime, [0], 10)  # type: ignore[arg-type]
    assert out.tokens == [1, 2, 3] and out.finished and out.text == "bcd"
    assert runtime.batches == [[0], [1], [2], [3]]


def test_the_mask_is_computed_only_when_the_greedy_token_is_refused() -> None:
    runtime = ScriptedRuntime([1, 5, 3])  # the model wants 5 at step 2; the grammar wants 2
    constraint = SequenceConstraint([1, 2, 3])
    out = generate(runtime, [0], 10, constraint, fast_forward=False)  # type: ignore[arg-type]
    assert out.tokens == [1, 2, 3] and out.finished
    assert constraint.masks == 1 and out.masked == 1


def test_forced_tokens_ride_in_one_batch_with_the_prompt_and_the_sampled_token() -> None:
    runtime = ScriptedRuntime([3, 6])
    constraint = SequenceConstraint([1, 2, 3, 4, 5, 6], forced_at={0, 1, 3, 4})
    out = generate(runtime, [0], 10, constraint, fast_forward=True)  # type: ignore[arg-type]
    assert out.tokens == [1, 2, 3, 4, 5, 6] and out.forced == 4 and out.sampled == 2
    assert runtime.batches == [[0, 1, 2], [3, 4, 5]]  # the last token is never decoded: the grammar is complete
    assert out.decode_calls == 2


def test_a_refused_output_never_slips_through() -> None:
    class Stubborn(SequenceConstraint):
        def mask_logits(self, logits: np.ndarray) -> None:
            logits[:] = -np.inf  # a grammar that allows nothing here

    with pytest.raises(ConstraintViolation, match="no token"):
        generate(ScriptedRuntime([5]), [0], 10, Stubborn([1]), fast_forward=False)  # type: ignore[arg-type]


def test_max_tokens_stops_an_unfinished_output_and_says_so() -> None:
    out = generate(ScriptedRuntime([1, 2, 3]), [0], 2, SequenceConstraint([1, 2, 3]), fast_forward=False)  # type: ignore[arg-type]
    assert out.tokens == [1, 2] and not out.finished


def test_apply_bitmask_keeps_exactly_the_allowed_tokens() -> None:
    logits = np.arange(40, dtype=np.float32)
    mask = np.array([(1 << 3) | (1 << 31), 1 << 2], dtype=np.uint32).view(np.int32)  # tokens 3, 31, 34
    apply_bitmask(logits, mask)
    assert [i for i in range(40) if np.isfinite(logits[i])] == [3, 31, 34]
