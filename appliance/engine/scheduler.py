"""The engine service `serve` uses with the local model: concurrent turns decoded together.

A small scheduler on the one model thread (llama.cpp's context is not thread-safe):
- `submit` puts a turn on a bounded queue; when `queue_limit` turns already wait, it raises
  `EngineBusy` at once and nothing is queued (the caller says so politely);
- the loop admits waiting turns in arrival order while a sequence slot and enough KV cells are free;
  a turn that does not fit yet waits at the head and nobody overtakes it, so no turn starves;
- every admitted turn is decoded in one batch (`batch.BatchDecoder`: one `llama_decode` per step,
  each turn with its own grammar state), and each turn finishes on its own: its future resolves the
  moment its output is complete and validated, while the others go on; a turn preempted for KV cells
  goes back to the head of the queue and runs again from its prompt;
- a turn whose preparation, grammar or validation fails ends alone with its error.

`close()` lets queued and running turns finish, then stops the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from appliance.engine.batch import HEADROOM, BatchDecoder, BatchRuntime, Finished
from appliance.engine.decode import Generation
from appliance.engine.local import PreparedTurn
from appliance.errors import EngineBusy, ModelError
from appliance.types import ContextMessage, Mentions, Proposal


class TurnEngine(Protocol):
    """What the scheduler needs from an orchestrator (`local.LocalOrchestrator` implements it)."""

    @property
    def runtime(self) -> BatchRuntime:
        """The model, opened with more than one sequence."""
        ...

    @property
    def prefix_tokens(self) -> list[int]:
        """The cached system prefix, held by sequence 0."""
        ...

    def prepare(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> PreparedTurn:
        """Conversation, grammar (grounded on `mentions`) and prompt suffix for one message."""
        ...

    def proposal(self, turn: PreparedTurn, generation: Generation) -> Proposal:
        """The validated proposal for what was generated."""
        ...


@dataclass
class _Job:
    messages: list[ContextMessage]
    future: Future[Proposal]
    mentions: Mentions | None = None
    turn: PreparedTurn | None = None


class BatchScheduler:
    """Collects waiting turns, decodes them together, finishes each on its own (see the module doc)."""

    def __init__(
        self, engine: TurnEngine, *, queue_limit: int = 64, headroom: int = HEADROOM, thread_name: str = "model-batch"
    ) -> None:
        if queue_limit < 1:
            raise ValueError("queue_limit must be at least 1")
        self.engine = engine
        self.queue_limit = queue_limit
        self.decoder = BatchDecoder(engine.runtime, len(engine.prefix_tokens), headroom=headroom)
        self._waiting: deque[_Job] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)
        self._thread.start()

    def submit(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Future[Proposal]:
        """Queue one turn; its future resolves with the proposal (or the error that ended it)."""
        job = _Job(list(messages), Future(), mentions)
        with self._wake:
            if self._closing:
                raise ModelError("the model is shutting down", hint="Send the message again once the Aid is back.")
            if len(self._waiting) >= self.queue_limit:
                raise EngineBusy(f"{len(self._waiting)} turns are already waiting for the model")
            self._waiting.append(job)
            self._wake.notify()
        return job.future

    @property
    def waiting(self) -> int:
        """Turns queued and not yet decoding."""
        with self._wake:
            return len(self._waiting)

    def close(self) -> None:
        """Let queued and running turns finish, then stop the model thread (idempotent)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join()

    # -- the model thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self.decoder.active and not self._closing:
                    self._wake.wait()
                if self._closing and not self._waiting and not self.decoder.active:
                    return
            try:
                self._admit()
                finished = self.decoder.step()
            except Exception as exc:  # a bug here must not leave turns waiting forever
                finished = self.decoder.cancel_all(exc)
            for done in finished:
                self._settle(done)

    def _admit(self) -> None:
        """Admit waiting turns in arrival order while one fits; the head waits for room, never skipped."""
        while self.decoder.slots:
            with self._wake:
                if not self._waiting:
                    return
                job = self._waiting[0]
            if job.turn is None:
                if not job.future.set_running_or_notify_cancel():  # the caller gave up while it waited
                    self._pop(job)
                    continue
                try:
                    job.turn = self.engine.prepare(job.messages, job.mentions)
                except Exception as exc:
                    self._pop(job)
                    job.future.set_exception(exc)
                    continue
            grammar = job.turn.grammar
            if not self.decoder.has_room(len(job.turn.suffix), grammar.max_tokens):
                if self.decoder.active:
                    return  # room frees up as running turns finish; nobody overtakes this turn
                self._pop(job)  # cannot fit even alone (prepare checks this; only a smaller batch context)
                job.future.set_exception(ModelError("the prompt does not fit the model's context"))
                continue
            self._pop(job)
            try:
                self.decoder.add(job, job.turn.suffix, grammar.max_tokens, grammar.constraint.start())
            except Exception as exc:
                job.future.set_exception(exc)

    def _pop(self, job: _Job) -> None:
        with self._wake:
            self._waiting.remove(job)

    def _settle(self, done: Finished) -> None:
        job: _Job = done.tag
        if done.preempted:  # its cells were needed: it runs again first, from its prompt
            with self._wake:
                self._waiting.appendleft(job)
            return
        if done.error is not None:
            job.future.set_exception(done.error)
            return
        assert done.generation is not None and job.turn is not None
        try:
            job.future.set_result(self.engine.proposal(job.turn, done.generation))
        except Exception as exc:  # validation failed: this turn only
            job.future.set_exception(exc)


class BatchingProposer:
    """`ports.Proposer` over a `BatchScheduler`: concurrent `propose` calls are decoded together."""

    def __init__(self, engine: TurnEngine, name: str, *, queue_limit: int = 64) -> None:
        self.engine = engine
        self._name = name
        self.scheduler = BatchScheduler(engine, queue_limit=queue_limit)

    @property
    def name(self) -> str:
        """The model and its fingerprint, as audit records name the orchestrator."""
        return self._name

    async def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """The proposal for this conversation, decoded alongside whatever else is waiting."""
        return await asyncio.wrap_future(self.scheduler.submit(messages, mentions))

    def close(self) -> None:
        """Finish the queued turns, stop the model thread and free the model."""
        self.scheduler.close()
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()
