"""A scripted multi-sequence "model" and orchestrator for the batch decoder and scheduler tests (no llama.cpp).

`ScriptedModel`'s logits after a sequence depend only on that sequence's whole token history (prefix,
prompt, output), like a real model's: if the batch decoder fed a token to the wrong sequence, at the
wrong position, or gave a sequence another's logits, its greedy output would differ from the serial one.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence

import numpy as np

from appliance.engine.decode import Generation, generate
from appliance.engine.local import CompiledGrammar, PreparedTurn
from appliance.errors import ConstraintViolation, ModelError
from appliance.types import ContextMessage, Mentions, Proposal, ToolCall

VOCAB = 32
EOS = VOCAB - 1
PREFIX = [1, 2, 3, 4]


class ScriptedModel:
    """Deterministic logits per history; records every decode (rows, and which sequence started when)."""

    def __init__(self, *, sequences: int = 4, n_batch: int = 64, n_ctx: int = 4096) -> None:
        self.sequences, self.n_batch, self.n_ctx = sequences, n_batch, n_ctx
        self.histories: dict[int, list[int]] = {0: list(PREFIX)}
        self.steps: list[list[tuple[int, int, list[int], bool]]] = []
        self.fail_next_decode = False
        self.thread_ids: set[int] = set()

    def logits_for(self, history: Sequence[int]) -> np.ndarray:
        seed = zlib.crc32(np.asarray(history, dtype=np.int32).tobytes())
        return np.random.default_rng(seed).standard_normal(VOCAB).astype(np.float32)

    # the single-sequence path (decode.generate)
    def truncate(self, n_keep: int) -> None:
        self.histories[0] = self.histories[0][:n_keep]

    def decode(self, tokens: list[int]) -> np.ndarray:
        self.histories[0].extend(tokens)
        return self.logits_for(self.histories[0])

    # the batch path (batch.BatchRuntime)
    def fork(self, seq: int, n_keep: int) -> None:
        assert 0 < seq < self.sequences and seq not in self.histories, f"sequence {seq} is in use"
        self.histories[seq] = self.histories[0][:n_keep]

    def drop(self, seq: int) -> None:
        self.histories.pop(seq, None)

    def decode_rows(self, rows: Sequence[tuple[int, int, Sequence[int], bool]]) -> list[np.ndarray]:
        self.thread_ids.add(threading.get_ident())
        assert sum(len(tokens) for _, _, tokens, _ in rows) <= self.n_batch
        self.steps.append([(seq, start, list(tokens), want) for seq, start, tokens, want in rows])
        if self.fail_next_decode:
            self.fail_next_decode = False
            raise ModelError("scripted decode failure")
        held = len(self.histories[0]) + sum(len(h) - len(PREFIX) for seq, h in self.histories.items() if seq)
        if held + sum(len(tokens) for _, _, tokens, _ in rows) > self.n_ctx:
            raise ModelError("scripted: no KV slot (more cells than n_ctx)")
        out = []
        for seq, start, tokens, want in rows:
            assert start == len(self.histories[seq]), f"sequence {seq} fed at {start}, holds {len(self.histories[seq])}"
            self.histories[seq].extend(tokens)
            if want:
                out.append(self.logits_for(self.histories[seq]))
        return out

    def is_end(self, token: int) -> bool:
        return token == EOS

    def detokenize(self, tokens: list[int]) -> str:
        return " ".join(str(t) for t in tokens)


class ChoiceGrammar:
    """Output = one token per position from that position's allowed set; a set of one is forced."""

    backend = "scripted"

    def __init__(self, allowed: list[set[int]], *, invalid: bool = False) -> None:
        self.allowed, self.invalid = allowed, invalid

    def start(self) -> ChoiceState:
        return ChoiceState(self.allowed)


class ChoiceState:
    def __init__(self, allowed: list[set[int]]) -> None:
        self.allowed, self.position = allowed, 0

    def accepts(self, token: int) -> bool:
        if self.position == len(self.allowed):
            return token == EOS
        return token in self.allowed[self.position]

    def advance(self, token: int) -> None:
        if not self.accepts(token):
            raise ConstraintViolation(f"token {token} refused at {self.position}")
        self.position += 1

    def mask_logits(self, logits: np.ndarray) -> None:
        allowed = self.allowed[self.position] if self.position < len(self.allowed) else {EOS}
        for token in range(len(logits)):
            if token not in allowed:
                logits[token] = -np.inf

    def forced_tokens(self) -> list[int]:
        out = []
        at = self.position
        while at < len(self.allowed) and len(self.allowed[at]) == 1:
            out.append(next(iter(self.allowed[at])))
            at += 1
        return out

    def is_finished(self) -> bool:
        return self.position == len(self.allowed)


def turn_text(*, length: int = 6, seed: int = 0, prompt: int = 5, mode: str = "ok") -> str:
    """A message whose words say what its turn is: output length, grammar seed, prompt length, mode
    (ok | dead: a grammar that allows nothing at position 1 | invalid: fails validation |
    unpreparable: fails before decoding)."""
    return f"len={length} seed={seed} prompt={prompt} mode={mode}"


def _spec(text: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in text.split() if "=" in word)


def grammar_of(text: str) -> list[set[int]]:
    """Each message's own grammar: some positions forced (a set of one), the others a choice of three."""
    spec = _spec(text)
    length, seed = int(spec.get("len", 6)), int(spec.get("seed", 0))
    allowed: list[set[int]] = []
    for i in range(length):
        if (i + seed) % 3 == 0:
            allowed.append({(seed * 7 + i) % (EOS - 1) + 1})
        else:
            allowed.append({(seed * 5 + i * k) % (EOS - 1) + 1 for k in (1, 2, 3)})
    if spec.get("mode") == "dead":
        allowed[1] = set()
    return allowed


class ScriptedOrchestrator:
    """The orchestrator's prepare / proposal split over `ScriptedModel`, plus the serial `propose`."""

    def __init__(self, model: ScriptedModel) -> None:
        self.runtime = model
        self.prefix_tokens = list(PREFIX)
        self.prepared: list[str] = []
        self.hold = threading.Event()  # prepare waits for it: lets a test queue several turns first
        self.hold.set()

    def prepare(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> PreparedTurn:
        text = messages[-1].text
        assert self.hold.wait(10), "the test never released prepare"
        self.prepared.append(text)
        spec = _spec(text)
        if spec.get("mode") == "unpreparable":
            raise ModelError("scripted: the prompt does not fit")
        suffix = suffix_of(text)
        allowed = grammar_of(text)
        constraint = ChoiceGrammar(allowed, invalid=spec.get("mode") == "invalid")
        return PreparedTurn(suffix, CompiledGrammar({}, constraint, len(allowed), 0.0), 0.0)  # type: ignore[arg-type]

    def proposal(self, turn: PreparedTurn, generation: Generation) -> Proposal:
        if not generation.finished:
            raise ConstraintViolation("cut short")
        if getattr(turn.grammar.constraint, "invalid", False):
            raise ConstraintViolation("scripted: the output failed validation")
        return Proposal(call=ToolCall(tool="reply", arguments={"text": generation.text}), raw_text=generation.text,
                        model="scripted", model_sha256="", backend="scripted", prompt_tokens=len(turn.suffix),
                        generated_tokens=len(generation.tokens))

    def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """The serial path, as `LocalOrchestrator.propose` runs it."""
        turn = self.prepare(messages)
        self.runtime.truncate(len(self.prefix_tokens))
        grammar = turn.grammar
        generation = generate(self.runtime, turn.suffix, grammar.max_tokens, grammar.constraint.start())  # type: ignore[arg-type]
        return self.proposal(turn, generation)


def suffix_of(text: str) -> list[int]:
    """The prompt tokens a message's turn feeds after the prefix."""
    return [zlib.crc32(f"{text}/{i}".encode()) % (EOS - 1) + 1 for i in range(int(_spec(text).get("prompt", 5)))]


def message(text: str) -> list[ContextMessage]:
    """A one-message conversation."""
    return [ContextMessage(role="user", text=text)]
