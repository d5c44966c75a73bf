"""A thin, owned wrapper over llama-cpp-python's low-level API: load, tokenize, decode, logits.

No `create_completion`: the high-level path costs ~3x per token (docs/ARCHITECTURE.md, decisions).
One model, one context. Sequence 0 holds the system prefix and the one-at-a-time path (`decode`,
`truncate`); with `sequences > 1`, sequences 1.. are conversations decoded together (`batch.py`:
`fork` shares the prefix's KV cells, `decode_rows` evaluates them all in one `llama_decode`). The KV
cache is unified (one buffer for every sequence), so a shared prefix is stored once.
`llama_cpp` is imported before numpy on purpose (two OpenMP runtimes segfaulted on the CUDA image).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Sequence
from pathlib import Path

import llama_cpp  # must precede numpy
import numpy as np

from appliance.errors import ModelError

_NO_LOG = llama_cpp.llama_log_callback(lambda level, text, user_data: None)


class LlamaRuntime:
    """A loaded GGUF model with one decoding context."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int,
        n_threads: int = 0,
        n_batch: int = 512,
        n_gpu_layers: int = 0,
        sequences: int = 1,
    ) -> None:
        llama_cpp.llama_log_set(_NO_LOG, ctypes.c_void_p())
        llama_cpp.llama_backend_init()
        model_params = llama_cpp.llama_model_default_params()
        model_params.n_gpu_layers = n_gpu_layers
        self._model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params)
        if not self._model:
            raise ModelError(f"llama.cpp could not load {path}")
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        threads = n_threads or os.cpu_count() or 1
        ctx_params = llama_cpp.llama_context_default_params()
        ctx_params.n_ctx = n_ctx
        ctx_params.n_batch = n_batch
        ctx_params.n_ubatch = n_batch
        ctx_params.n_threads = threads
        ctx_params.n_threads_batch = threads
        ctx_params.n_seq_max = sequences
        ctx_params.kv_unified = True  # sequences share the prefix's cells instead of each holding a copy
        self._ctx = llama_cpp.llama_init_from_model(self._model, ctx_params)
        if not self._ctx:
            llama_cpp.llama_model_free(self._model)
            raise ModelError(f"llama.cpp could not create a context of {n_ctx} tokens for {path}")
        self.n_ctx = llama_cpp.llama_n_ctx(self._ctx)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self.n_batch = n_batch
        self.n_threads = threads
        self.n_gpu_layers = n_gpu_layers
        self.sequences = sequences
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self.eos = llama_cpp.llama_vocab_eos(self._vocab)
        self.n_past = 0

    # -- vocabulary ---------------------------------------------------------------------------
    @property
    def vocab(self) -> llama_cpp.llama_vocab_p:
        """The raw vocab pointer (for llguidance's llama.cpp tokenizer binding)."""
        return self._vocab

    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        """Text -> token ids; special tokens in the text (chat markers) are parsed as such."""
        data = text.encode("utf-8")
        capacity = len(data) + 16
        buffer = (llama_cpp.llama_token * capacity)()
        n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buffer, capacity, add_special, True)
        if n < 0:
            raise ModelError(f"tokenizer needed {-n} slots for {len(data)} bytes")
        return list(buffer[:n])

    def piece(self, token: int, *, special: bool = True) -> bytes:
        """The bytes one token decodes to."""
        buffer = ctypes.create_string_buffer(256)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, 256, 0, special)
        return buffer.raw[: max(n, 0)]

    def detokenize(self, tokens: list[int]) -> str:
        """Token ids -> text (invalid UTF-8 replaced)."""
        return b"".join(self.piece(t, special=False) for t in tokens).decode("utf-8", errors="replace")

    def is_end(self, token: int) -> bool:
        """True for end-of-generation tokens (EOS, end-of-turn)."""
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def is_control(self, token: int) -> bool:
        """True for control tokens (chat markers), which never appear inside a tool call."""
        return bool(llama_cpp.llama_vocab_get_attr(self._vocab, token) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL)

    def chat_template(self) -> str:
        """The chat template stored in the GGUF (`tokenizer.chat_template`)."""
        raw = llama_cpp.llama_model_chat_template(self._model, None)
        if not raw:
            raise ModelError("the model file carries no chat template (tokenizer.chat_template)")
        return raw.decode("utf-8")

    # -- decoding -----------------------------------------------------------------------------
    def truncate(self, n_keep: int) -> None:
        """Forget every position from `n_keep` on (keeps the cached prefix before it)."""
        llama_cpp.llama_memory_seq_rm(self._memory, 0, n_keep, -1)
        self.n_past = n_keep

    def decode(self, tokens: list[int]) -> np.ndarray:
        """Evaluate `tokens` after the current position; return the last token's logits (a view)."""
        if not tokens:
            raise ValueError("decode needs at least one token")
        if self.n_past + len(tokens) > self.n_ctx:
            raise ModelError(f"context full: {self.n_past}+{len(tokens)} tokens > n_ctx {self.n_ctx}")
        batch = self._batch
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            batch.n_tokens = len(chunk)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = self.n_past + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 0
            batch.logits[len(chunk) - 1] = 1
            status = llama_cpp.llama_decode(self._ctx, batch)
            if status != 0:
                raise ModelError(f"llama_decode failed with status {status}")
            self.n_past += len(chunk)
        pointer = llama_cpp.llama_get_logits_ith(self._ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))

    # -- the prefix's KV state as bytes (engine/prefix_state.py) --------------------------------
    def prefix_state(self) -> bytes:
        """The KV cells of sequence 0 (the cached prefix), as llama.cpp serialises them."""
        size = llama_cpp.llama_state_seq_get_size(self._ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(self._ctx, buffer, size, 0)
        return bytes(buffer)[:written]

    def restore_prefix_state(self, data: bytes, n_tokens: int) -> bool:
        """Put cells saved by `prefix_state` back into sequence 0 (emptied first) and continue after their
        `n_tokens` positions; False, with sequence 0 left empty, if llama.cpp refuses them."""
        self.truncate(0)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_seq_set_data(self._ctx, buffer, len(data), 0) == 0:
            self.truncate(0)
            return False
        self.n_past = n_tokens
        return True

    # -- several sequences at once (batch.py) ---------------------------------------------------
    def fork(self, seq: int, n_keep: int) -> None:
        """Start sequence `seq` on the first `n_keep` positions of sequence 0 (shared cells, no copy)."""
        if not 0 < seq < self.sequences:
            raise ValueError(f"sequence {seq} is outside 1..{self.sequences - 1}")
        llama_cpp.llama_memory_seq_rm(self._memory, seq, -1, -1)
        llama_cpp.llama_memory_seq_cp(self._memory, 0, seq, 0, n_keep)

    def drop(self, seq: int) -> None:
        """Forget everything sequence `seq` holds (cells it shared with the prefix stay for sequence 0)."""
        llama_cpp.llama_memory_seq_rm(self._memory, seq, -1, -1)

    def decode_rows(self, rows: Sequence[tuple[int, int, Sequence[int], bool]]) -> list[np.ndarray]:
        """Evaluate several sequences in one `llama_decode`. A row is (sequence, position of its first
        token, tokens, whether its last token's logits are wanted); returns those logits (views, valid
        until the next decode), in row order. The rows' tokens together must fit `n_batch`."""
        batch = self._batch
        n = 0
        wanted: list[int] = []
        for seq, start, tokens, want_logits in rows:
            if n + len(tokens) > self.n_batch:
                raise ValueError(f"more than n_batch {self.n_batch} tokens in one decode")
            for offset, token in enumerate(tokens):
                batch.token[n] = token
                batch.pos[n] = start + offset
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = seq
                batch.logits[n] = 0
                n += 1
            if want_logits and tokens:
                batch.logits[n - 1] = 1
                wanted.append(n - 1)
        if n == 0:
            raise ValueError("decode_rows needs at least one token")
        batch.n_tokens = n
        status = llama_cpp.llama_decode(self._ctx, batch)
        if status != 0:
            raise ModelError(f"llama_decode failed with status {status} for {len(rows)} sequences, {n} tokens")
        return [
            np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, i), shape=(self.n_vocab,)) for i in wanted
        ]

    def close(self) -> None:
        """Free the context and the model (idempotent)."""
        if getattr(self, "_ctx", None):
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)
            llama_cpp.llama_model_free(self._model)
            self._ctx = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order is not testable
        with contextlib.suppress(Exception):
            self.close()
