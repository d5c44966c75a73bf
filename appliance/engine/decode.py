"""The lean decode loop: greedy, check-the-sampled-token-first, fast-forward in one batch.

Per step: one `llama_decode`, one argmax. Under a constraint the greedy token is checked first and
the full mask is computed only when it is refused; tokens the grammar forces are appended to the
same batch instead of costing a decode step each.
"""

from __future__ import annotations

import time
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
    out = Generation(tokens=[], text="")
    pending = list(prompt)
    if state is not None and fast_forward:
        pending += _take_forced(state, out)
    logits = runtime.decode(pending)
    out.decode_calls += 1
    out.prompt_seconds = time.perf_counter() - started
    while len(out.tokens) < max_tokens:
        if state is not None and state.is_finished():
            out.finished = True
            break
        token = int(np.argmax(logits))
        if state is not None and not state.accepts(token):
            state.mask_logits(logits)
            out.masked += 1
            token = int(np.argmax(logits))
            if not np.isfinite(logits[token]):
                raise ConstraintViolation("the grammar allows no token here (empty mask)")
        if runtime.is_end(token):
            out.finished = state is None or state.is_finished() or state.accepts(token)
            break
        out.sampled += 1
        out.tokens.append(token)
        step = [token]
        if state is not None:
            state.advance(token)
            if fast_forward:
                step += _take_forced(state, out)
            if state.is_finished():
                out.finished = True
                break
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
