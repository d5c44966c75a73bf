"""Several conversations decoded together: one llama.cpp sequence each, one `llama_decode` per step.

Each output keeps its own `decode.Decoding` (its own grammar state, its own check-first step and
fast-forward), so a sequence takes exactly the decisions it would take alone. Every sequence starts
from the system prefix's KV cells (`runtime.fork`: shared, not copied), then feeds its own suffix.

One step = one `llama_decode` of at most `n_batch` tokens: first the sequences already generating
(their sampled token plus the tokens the grammar forces, least recently fed first), then prompt
chunks of newly added sequences (oldest first). A sequence gets logits only when everything it had
pending went in, so a long prompt is spread over several steps without holding the others back.
A sequence whose step raises (a grammar that allows nothing, ...) ends alone with that error; a
failed `llama_decode` ends the sequences that were in it, and the decoder stays usable.

KV cells: the grammar's longest output is far longer than a usual one (a free-text reply may run to
~1,700 tokens), so a sequence joins with its prompt plus `headroom` output cells set aside, and takes
more as it grows. If the running outputs ever need more cells than the context has, the newest
sequence is preempted (its cells freed, `Finished.preempted`) and the caller runs it again later from
its prompt; the oldest always goes on, and a sequence alone always fits (`LocalOrchestrator.prepare`
checks prefix + prompt + longest output against the context).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import llama_cpp  # noqa: F401  (import order: llama_cpp before numpy)
import numpy as np

from appliance.engine.constraint import ConstraintState
from appliance.engine.decode import Decoding, Generation

Row = tuple[int, int, Sequence[int], bool]
HEADROOM = 64  # output cells set aside when a sequence joins (a tool call is ~30 tokens)


class BatchRuntime(Protocol):
    """What the batch decoder needs from the model (`runtime.LlamaRuntime` implements it)."""

    n_batch: int
    n_ctx: int
    sequences: int

    def truncate(self, n_keep: int) -> None:
        """Forget sequence 0's positions from `n_keep` on."""
        ...

    def fork(self, seq: int, n_keep: int) -> None:
        """Start `seq` on the first `n_keep` positions of sequence 0."""
        ...

    def drop(self, seq: int) -> None:
        """Forget what `seq` holds."""
        ...

    def decode_rows(self, rows: Sequence[Row]) -> list[np.ndarray]:
        """One decode of several sequences; the logits of the rows that asked for them."""
        ...

    def is_end(self, token: int) -> bool:
        """True for end-of-generation tokens."""
        ...

    def detokenize(self, tokens: list[int]) -> str:
        """Token ids -> text."""
        ...


@dataclass
class Finished:
    """A sequence that left the batch: its generation, the error that ended it, or `preempted`
    (its cells were needed; run it again from its prompt)."""

    tag: Any
    generation: Generation | None = None
    error: BaseException | None = None
    preempted: bool = False


@dataclass
class _Running:
    seq: int
    tag: Any
    decoding: Decoding
    pending: list[int]
    position: int
    reserved: int
    admitted: int
    started: float
    prompting: bool = True
    fed_at: int = -1


class BatchDecoder:
    """Decodes up to `runtime.sequences - 1` outputs together after a shared prefix of `n_prefix` tokens."""

    def __init__(
        self,
        runtime: BatchRuntime,
        n_prefix: int,
        *,
        headroom: int = HEADROOM,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if runtime.sequences < 2:
            raise ValueError("the runtime was opened with one sequence; batching needs sequences >= 2")
        self.runtime = runtime
        self.n_prefix = n_prefix
        self.capacity = runtime.n_ctx - n_prefix  # cells for everything after the shared prefix
        self.headroom = headroom
        self.clock = clock
        self._free = list(range(runtime.sequences - 1, 0, -1))  # pop() hands out 1, 2, ...
        self._running: list[_Running] = []
        self._admitted = itertools.count()
        self._steps = 0
        self.peak = 0  # the most sequences decoded together so far
        self.preemptions = 0  # sequences sent back for KV cells so far

    @property
    def active(self) -> int:
        """How many sequences are in the batch."""
        return len(self._running)

    @property
    def slots(self) -> int:
        """How many more sequences may join now."""
        return len(self._free)

    def has_room(self, prompt_tokens: int, max_tokens: int) -> bool:
        """Whether an output with this prompt may join now (a slot, and its cells set aside)."""
        return bool(self._free) and self._set_aside() + self._reserve(prompt_tokens, max_tokens) <= self.capacity

    def _reserve(self, prompt_tokens: int, max_tokens: int) -> int:
        return prompt_tokens + min(max_tokens, self.headroom)

    def _set_aside(self) -> int:
        return sum(max(r.reserved, r.position - self.n_prefix + len(r.pending)) for r in self._running)

    def add(
        self,
        tag: Any,
        prompt: Sequence[int],
        max_tokens: int,
        state: ConstraintState | None,
        *,
        fast_forward: bool = True,
    ) -> None:
        """Join the batch: `prompt` is fed after the shared prefix, then the output is decoded under
        `state`. Raises ValueError when there is no room (ask `has_room` first)."""
        if not prompt:
            raise ValueError("a sequence needs a prompt")
        if not self.has_room(len(prompt), max_tokens):
            raise ValueError(f"no room for a prompt of {len(prompt)} tokens ({self.slots} slots free)")
        if not self._running:
            self.runtime.truncate(self.n_prefix)  # sequence 0 holds the prefix only while the batch runs
        decoding = Decoding(max_tokens, state, self.runtime.is_end, fast_forward=fast_forward)
        pending = [*prompt, *decoding.opening()]
        seq = self._free.pop()
        try:
            self.runtime.fork(seq, self.n_prefix)
        except BaseException:
            self._free.append(seq)
            raise
        reserved = self._reserve(len(pending), max_tokens)
        admitted = next(self._admitted)
        self._running.append(_Running(seq, tag, decoding, pending, self.n_prefix, reserved, admitted, self.clock()))
        self.peak = max(self.peak, len(self._running))

    def step(self) -> list[Finished]:
        """One `llama_decode` over the batch; returns the sequences that ended in it."""
        if not self._running:
            return []
        preempted = self._make_room()
        chosen = self._rows()
        rows: list[Row] = [(r.seq, r.position, r.pending[:n], n == len(r.pending)) for r, n in chosen]
        self._steps += 1
        try:
            logits = self.runtime.decode_rows(rows)
        except Exception as exc:  # the whole decode failed: only the sequences in it end
            return [*preempted, *(self._end(r, error=exc) for r, _ in chosen)]
        done: list[Finished] = preempted
        wanted = iter(logits)
        for running, n in chosen:
            running.position += n
            running.fed_at = self._steps
            running.decoding.out.decode_calls += 1
            complete = n == len(running.pending)
            running.pending = running.pending[n:]
            if not complete:
                continue
            out = running.decoding.out
            if running.prompting:
                running.prompting = False
                out.prompt_seconds = self.clock() - running.started
            try:
                following = running.decoding.step(next(wanted))
            except Exception as exc:  # this sequence's grammar or logits: it alone ends
                done.append(self._end(running, error=exc))
                continue
            if following is None:
                done.append(self._end(running))
            else:
                running.pending = following
        return done

    def cancel_all(self, error: BaseException) -> list[Finished]:
        """End every running sequence with `error` (shutting down)."""
        return [self._end(r, error=error) for r in list(self._running)]

    def _make_room(self) -> list[Finished]:
        """Preempt the newest sequences while the next step would need more cells than there are."""
        preempted = []
        while len(self._running) > 1:
            held = sum(r.position - self.n_prefix for r in self._running)
            if held + sum(n for _, n in self._rows()) <= self.capacity:
                break
            newest = max(self._running, key=lambda r: r.admitted)
            self._release(newest)
            self.preemptions += 1
            preempted.append(Finished(newest.tag, preempted=True))
        return preempted

    def _rows(self) -> list[tuple[_Running, int]]:
        # Generating sequences first, least recently fed first; then prompts strictly oldest first, so one
        # prompt finishes before the next starts (round-robin prefill made every turn finish late together).
        order = sorted(self._running, key=lambda r: (r.prompting, r.admitted if r.prompting else r.fed_at, r.admitted))
        budget = self.runtime.n_batch
        chosen: list[tuple[_Running, int]] = []
        for running in order:
            if budget == 0:
                break
            n = min(len(running.pending), budget)
            chosen.append((running, n))
            budget -= n
        return chosen

    def _release(self, running: _Running) -> None:
        self._running.remove(running)
        self.runtime.drop(running.seq)
        self._free.append(running.seq)

    def _end(self, running: _Running, *, error: BaseException | None = None) -> Finished:
        self._release(running)
        if error is not None:
            return Finished(running.tag, error=error)
        out = running.decoding.out
        out.text = self.runtime.detokenize(out.tokens)
        out.seconds = self.clock() - running.started
        return Finished(running.tag, generation=out)
