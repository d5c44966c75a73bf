"""The lean decode loop: greedy, check-the-sampled-token-first, fast-forward in one batch.

Per step: one `llama_decode`, one argmax. Under a constraint the greedy token is checked first and
the full mask is computed only when it is refused; tokens the grammar forces are appended to the
same batch instead of costing a decode step each.

`Decoding` is that step for one output, fed one logits row at a time: `generate` drives one output
with `LlamaRuntime.decode`; `batch.BatchDecoder` drives many outputs through one `llama_decode` per
step. Both take the same decisions from the same logits, so greedy results are the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import llama_cpp  # noqa: F401  (import order: llama_cpp before numpy)
import numpy as np

from appliance.engine.constraint import ConstraintState
from appliance.engine.runtime import LlamaRuntime
from appliance.errors import ConstraintViolation


@dataclass
class Generation:
    """What one decode produced, and what it cost."""

    tokens: list[int]
    text: str
    sampled: int = 0
    forced: int = 0
    masked: int = 0
    decode_calls: int = 0
    finished: bool = False
    prompt_seconds: float = 0.0
    seconds: float = 0.0


class Decoding:
    """One output in progress: what to feed the model first, then, per logits row, what to feed next."""

    def __init__(
        self,
        max_tokens: int,
        state: ConstraintState | None,
        is_end: Callable[[int], bool],
        *,
        fast_forward: bool = True,
    ) -> None:
        self.out = Generation(tokens=[], text="")
        self.max_tokens = max_tokens
        self.state = state
        self.is_end = is_end
        self.fast_forward = fast_forward

    def opening(self) -> list[int]:
        """Tokens the grammar forces before anything is sampled (they follow the prompt in its batch)."""
        if self.state is not None and self.fast_forward:
            return _take_forced(self.state, self.out)
        return []

    def step(self, logits: np.ndarray) -> list[int] | None:
        """Given the logits after the last token fed: the tokens to feed next, or None when the output
        is complete (or cut at `max_tokens`). May mask `logits` in place."""
        out, state = self.out, self.state
        if len(out.tokens) >= self.max_tokens:
            return None
        if state is not None and state.is_finished():
            out.finished = True
            return None
        token = int(np.argmax(logits))
        if state is not None and not state.accepts(token):
            state.mask_logits(logits)
            out.masked += 1
            token = int(np.argmax(logits))
            if not np.isfinite(logits[token]):
                raise ConstraintViolation("the grammar allows no token here (empty mask)")
        if self.is_end(token):
            out.finished = state is None or state.is_finished() or state.accepts(token)
            return None
        out.sampled += 1
        out.tokens.append(token)
        step = [token]
        if state is not None:
            state.advance(token)
            if self.fast_forward:
                step += _take_forced(state, out)
            if state.is_finished():
                out.finished = True
                return None
        return step


def generate(
    runtime: LlamaRuntime,
    prompt: list[int],
    max_tokens: int,
    state: ConstraintState | None = None,
    *,
    fast_forward: bool = True,
) -> Generation:
    """Decode `prompt` (after whatever the runtime already holds) and generate up to `max_tokens`.

    Without `state` this is free greedy text until an end token. With `state` every token is one the
    grammar allows, and generation ends when the grammar is complete.
    """
    started = time.perf_counter()
    decoding = Decoding(max_tokens, state, runtime.is_end, fast_forward=fast_forward)
    out = decoding.out
    logits = runtime.decode([*prompt, *decoding.opening()])
    out.decode_calls += 1
    out.prompt_seconds = time.perf_counter() - started
    while (step := decoding.step(logits)) is not None:
        logits = runtime.decode(step)
        out.decode_calls += 1
    out.text = runtime.detokenize(out.tokens)
    out.seconds = time.perf_counter() - started
    return out


def _take_forced(state: ConstraintState, out: Generation) -> list[int]:
    forced = state.forced_tokens()
    for token in forced:
        state.advance(token)
    out.tokens.extend(forced)
    out.forced += len(forced)
    return forced
