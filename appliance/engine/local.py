"""The local model: llama.cpp + a per-message grammar from the catalog -> one valid ToolCall.

Start-up: verify the model's sha256, load it, evaluate the system prompt once (the prefix cache),
build the backend's view of the vocabulary. Per message: bound the conversation, ground the grammar
on the addresses it mentions, put the most similar worked examples right before it (`examples.py`),
decode under the constraint, re-validate against the catalog.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema

from appliance.catalog import Catalog
from appliance.engine.constraint import Constraint
from appliance.engine.decode import Generation, generate
from appliance.engine.examples import EXAMPLES, ExampleRetriever
from appliance.engine.llguidance_backend import LLGuidanceConstraint, llguidance_tokenizer
from appliance.engine.manifest import ModelEntry, verify_model
from appliance.engine.outlines_backend import compile_outlines, outlines_vocabulary
from appliance.engine.prefix_state import evaluate_prefix
from appliance.engine.prompt import (
    ChatTemplate,
    bounded_conversation,
    fixed_turns,
    neutralize_markers,
    split_prompt,
)
from appliance.engine.router import IntentRouter
from appliance.engine.runtime import LlamaRuntime
from appliance.errors import ConstraintViolation, ModelError
from appliance.grammar import Grounding, max_tokens, to_lark, tool_call_schema
from appliance.types import ContextMessage, Mentions, Proposal

Backend = Literal["llguidance", "outlines"]
_PLACEHOLDER = [{"role": "user", "content": "-"}]


@dataclass(frozen=True)
class CompiledGrammar:
    """A constraint for one message's grammar, with its token budget."""

    schema: dict[str, Any]
    constraint: Constraint
    max_tokens: int
    seconds: float
    cache_hit: bool = False


@dataclass(frozen=True)
class PreparedTurn:
    """One message ready to decode: the prompt suffix after the cached prefix, and its grammar."""

    suffix: list[int]
    grammar: CompiledGrammar
    started: float


class LocalOrchestrator:
    """Implements `ports.ToolCallModel` with a local GGUF model. Not thread-safe: one call at a time."""

    def __init__(
        self,
        runtime: LlamaRuntime,
        entry: ModelEntry,
        catalog: Catalog,
        *,
        backend: Backend = "llguidance",
        context_tokens: int = 768,
        cache_dir: Path | None = None,
        retrieved_examples: int = 2,
        route_tools: int = 0,
        prefix_state_dir: Path | None = None,
    ) -> None:
        self.runtime = runtime
        self.entry = entry
        self.catalog = catalog
        self.backend = backend
        self.context_tokens = context_tokens
        self.cache_dir = cache_dir
        self.template = ChatTemplate(
            runtime.chat_template(), bos_token="", eos_token=runtime.piece(runtime.eos).decode()
        )
        self.fixed = fixed_turns(catalog)
        self.retrieved_examples = retrieved_examples
        self.examples = ExampleRetriever(catalog, EXAMPLES)
        self.route_tools = route_tools
        self.router = IntentRouter(
            (e for e in EXAMPLES if e[1] in catalog),
            state_changing=[name for name, spec in catalog.items() if spec.changes_state],
        )
        prefix = split_prompt(self.template, self.fixed, _PLACEHOLDER).prefix
        self.prefix_tokens = runtime.tokenize(prefix, add_special=True)
        started = time.perf_counter()
        # With `prefix_state_dir` (dev set-ups only), the cells an identical evaluation saved are restored
        # instead of evaluating the prefix again (engine/prefix_state.py).
        self.prefix_restored = evaluate_prefix(runtime, self.prefix_tokens, entry.sha256, prefix_state_dir)
        self.prefix_seconds = time.perf_counter() - started
        self._markers = sorted(
            {runtime.piece(t).decode("utf-8", "replace") for t in range(runtime.n_vocab) if runtime.is_control(t)},
            key=len,
            reverse=True,
        )
        self._llg_tokenizer = llguidance_tokenizer(runtime) if backend == "llguidance" else None
        self._vocabulary = outlines_vocabulary(runtime) if backend == "outlines" else None

    # -- grammar ------------------------------------------------------------------------------
    def compile(self, schema: dict[str, Any]) -> CompiledGrammar:
        """Compile `schema` for this model with the configured backend."""
        started = time.perf_counter()
        hit = False
        constraint: Constraint
        if self.backend == "llguidance":
            assert self._llg_tokenizer is not None
            constraint = LLGuidanceConstraint(self._llg_tokenizer, to_lark(schema), self.runtime.n_vocab)
        else:
            assert self._vocabulary is not None
            constraint, hit = compile_outlines(
                schema, self._vocabulary, self.runtime, self.entry.sha256, self.cache_dir
            )
        return CompiledGrammar(schema, constraint, max_tokens(schema), time.perf_counter() - started, hit)

    def grammar_for(self, conversation: Sequence[dict[str, str]], mentions: Mentions | None = None) -> CompiledGrammar:
        """The grammar grounded on what the (bounded) conversation mentions: sorted by kind by the directory
        when `mentions` is given, else every address and name may be a user or a group. With
        `route_tools`, only that many tools survive: the allowed ones the router ranks best for the
        newest message (`router.py`)."""
        if mentions is not None:
            grounding = Grounding.from_mentions(mentions, [turn["content"] for turn in conversation])
        else:
            grounding = Grounding.from_texts([turn["content"] for turn in conversation])
        schema = tool_call_schema(self.catalog, grounding)
        if self.route_tools and len(schema["anyOf"]) > self.route_tools:
            allowed = [variant["properties"]["tool"]["const"] for variant in schema["anyOf"]]
            keep = set(self.router.top(conversation[-1]["content"], self.route_tools, allowed))
            schema = {"anyOf": [v for v in schema["anyOf"] if v["properties"]["tool"]["const"] in keep]}
        return self.compile(schema)

    # -- the one use -------------------------------------------------------------------------
    def conversation(self, messages: Sequence[ContextMessage]) -> list[dict[str, str]]:
        """The bounded chat turns the model will see for `messages`."""
        safe = [m.model_copy(update={"text": neutralize_markers(m.text, self._markers)}) for m in messages]
        return bounded_conversation(
            safe, self.context_tokens, lambda text: len(self.runtime.tokenize(text)), self._shorten
        )

    def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """Return the one catalog tool call the model proposes (validated twice)."""
        turn = self.prepare(messages, mentions)
        self.runtime.truncate(len(self.prefix_tokens))
        generation = generate(self.runtime, turn.suffix, turn.grammar.max_tokens, turn.grammar.constraint.start())
        return self.proposal(turn, generation)

    def prepare(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> PreparedTurn:
        """Everything before decoding: the bounded conversation, its grammar grounded on `mentions` (see
        `grammar_for`), the retrieved examples and the prompt suffix (after the cached prefix). Raises
        ModelError if it cannot fit."""
        started = time.perf_counter()
        conversation = self.conversation(messages)
        grammar = self.grammar_for(conversation, mentions)  # grounded on the real conversation, never on examples
        possible = frozenset(v["properties"]["tool"]["const"] for v in grammar.schema["anyOf"])
        examples = self.examples.turns(conversation[-1]["content"], self.retrieved_examples, possible)
        shown = [*conversation[:-1], *examples, conversation[-1]]  # the nearest pattern right before the message
        suffix = self.runtime.tokenize(split_prompt(self.template, self.fixed, shown).suffix)
        needed = len(self.prefix_tokens) + len(suffix) + grammar.max_tokens
        if needed > self.entry.context_length:  # one sequence's positions stay within the model's context
            raise ModelError(
                f"prompt + longest tool call need {needed} tokens, the context has {self.entry.context_length}",
                hint="Lower engine.context_tokens in appliance.toml.",
            )
        return PreparedTurn(suffix, grammar, started)

    def proposal(self, turn: PreparedTurn, generation: Generation) -> Proposal:
        """The validated proposal for a prepared turn and what the model generated for it."""
        call = self._validated(generation, turn.grammar.schema)
        return Proposal(
            call=call,
            raw_text=generation.text,
            model=self.entry.name,
            model_sha256=self.entry.sha256,
            backend=self.backend,
            prompt_tokens=len(self.prefix_tokens) + len(turn.suffix),
            generated_tokens=len(generation.tokens),
            forced_tokens=generation.forced,
            compile_seconds=turn.grammar.seconds,
            seconds=time.perf_counter() - turn.started,
        )

    def _validated(self, generation: Generation, schema: dict[str, Any]) -> Any:
        if not generation.finished:
            raise ConstraintViolation(f"output cut short after {len(generation.tokens)} tokens")
        try:
            obj = json.loads(generation.text)
            jsonschema.validate(obj, schema)
        except (ValueError, jsonschema.ValidationError) as exc:
            raise ConstraintViolation(f"constrained output failed validation: {exc}") from exc
        return self.catalog.validate_call(obj["tool"], obj["arguments"])

    def _shorten(self, text: str, tokens: int) -> str:
        return self.runtime.detokenize(self.runtime.tokenize(text)[:tokens])

    def close(self) -> None:
        """Free the model."""
        self.runtime.close()


TURN_SLACK = 256
"""KV cells a turn needs beyond its bounded conversation: retrieved examples, chat-template tokens, the call."""


def kv_cells(context_length: int, context_tokens: int, batch_size: int) -> int:
    """KV cells for the one shared context: the model's context (the cached prefix and the one-at-a-time
    path), plus, when turns are decoded together, room for `batch_size` full turns after the prefix. With
    only the model's context, a batch of long conversations ran out of cells and the scheduler preempted
    (re-ran) turns: 16 conversations were slower batched than one at a time (docs/BENCHMARKS.md)."""
    if batch_size <= 1:
        return context_length
    return context_length + batch_size * (context_tokens + TURN_SLACK)


def open_local(
    entry: ModelEntry,
    models_dir: Path,
    catalog: Catalog,
    *,
    backend: Backend = "llguidance",
    context_tokens: int = 768,
    n_threads: int = 0,
    n_gpu_layers: int = 0,
    cache_dir: Path | None = None,
    retrieved_examples: int = 2,
    route_tools: int = 0,
    batch_size: int = 1,
    prefix_state_dir: Path | None = None,
) -> LocalOrchestrator:
    """Verify the model's hash (a mismatch never loads), load it, and build the orchestrator.
    `batch_size` > 1 opens that many extra sequences for conversations decoded together (`batch.py`);
    `prefix_state_dir` keeps the evaluated prefix on disk for the next start (dev only, `prefix_state.py`)."""
    path = verify_model(entry, models_dir)
    sequences = 1 + (batch_size if batch_size > 1 else 0)
    runtime = LlamaRuntime(
        path, n_ctx=kv_cells(entry.context_length, context_tokens, batch_size), n_threads=n_threads,
        n_gpu_layers=n_gpu_layers, sequences=sequences,
    )
    return LocalOrchestrator(
        runtime, entry, catalog, backend=backend, context_tokens=context_tokens, cache_dir=cache_dir,
        retrieved_examples=retrieved_examples, route_tools=route_tools, prefix_state_dir=prefix_state_dir,
    )
