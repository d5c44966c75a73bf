"""The second constraint backend: outlines-core (regex index over the vocabulary).

Its index takes seconds to compile for a real vocabulary, so compiled indexes are cached on disk,
keyed by the sha256 of (regex, model file hash), in outlines' own binary form (no pickle); only the
newest few are kept, since one index for a 49k vocabulary takes ~180 MB. It has no fast-forward; it
must accept and reject exactly what llguidance does (a test checks a corpus).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import llama_cpp  # noqa: F401  (import order: llama_cpp before numpy)
import numpy as np
import outlines_core

from appliance.engine.constraint import apply_bitmask
from appliance.engine.runtime import LlamaRuntime
from appliance.errors import ConstraintViolation

CACHE_KEEP = 4


class OutlinesState:
    """One output in progress under an outlines-core Guide."""

    def __init__(self, guide: outlines_core.Guide, n_vocab: int, eos: int) -> None:
        self._guide = guide
        self._eos = eos
        self._mask = np.zeros((n_vocab + 31) // 32, dtype=np.int32)

    def accepts(self, token: int) -> bool:
        if token == self._eos:  # outlines reports end-of-sequence through is_finished, not accepts
            return bool(self._guide.is_finished())
        return bool(self._guide.accepts_tokens([token]))

    def advance(self, token: int) -> None:
        if not self.accepts(token):
            raise ConstraintViolation(f"outlines refused token {token}")
        self._guide.advance(token, return_tokens=False)

    def mask_logits(self, logits: np.ndarray) -> None:
        self._mask.fill(0)
        self._guide.write_mask_into(self._mask.ctypes.data, self._mask.size, 4)
        apply_bitmask(logits, self._mask)

    def forced_tokens(self) -> list[int]:
        return []

    def is_finished(self) -> bool:
        return bool(self._guide.is_finished())


class OutlinesConstraint:
    """A JSON schema compiled to an outlines-core Index."""

    backend = "outlines"

    def __init__(self, index: outlines_core.Index, n_vocab: int, eos: int) -> None:
        self._index = index
        self._n_vocab = n_vocab
        self._eos = eos

    def start(self) -> OutlinesState:
        return OutlinesState(outlines_core.Guide(self._index), self._n_vocab, self._eos)


def schema_regex(schema: dict[str, Any]) -> str:
    """The compact-JSON regex outlines derives from the union schema (no optional whitespace)."""
    return outlines_core.json_schema.build_regex_from_schema(json.dumps(schema), whitespace_pattern="")


def outlines_vocabulary(runtime: LlamaRuntime) -> outlines_core.Vocabulary:
    """The model's vocabulary as outlines sees it: byte strings of every non-control token."""
    pieces: dict[bytes, list[int]] = {}
    for token in range(runtime.n_vocab):
        if token == runtime.eos or runtime.is_control(token):
            continue
        piece = runtime.piece(token, special=False)
        if piece:
            pieces.setdefault(piece, []).append(token)
    return outlines_core.Vocabulary(runtime.eos, pieces)


def compile_outlines(
    schema: dict[str, Any], vocabulary: outlines_core.Vocabulary, runtime: LlamaRuntime,
    model_sha256: str, cache_dir: Path | None,
) -> tuple[OutlinesConstraint, bool]:
    """Compile (or load from the disk cache) the index for `schema`. Returns (constraint, cache_hit)."""
    regex = schema_regex(schema)
    key = hashlib.sha256(f"{model_sha256}\n{regex}".encode()).hexdigest()
    path = cache_dir / f"outlines-{key}.index" if cache_dir else None
    if path and path.is_file():
        index = outlines_core.Index.from_binary(path.read_bytes())
        os.utime(path)
        return OutlinesConstraint(index, runtime.n_vocab, runtime.eos), True
    index = outlines_core.Index(regex, vocabulary)
    if path:
        _store(path, index.__reduce__()[1][0])
    return OutlinesConstraint(index, runtime.n_vocab, runtime.eos), False


def _store(path: Path, blob: bytes) -> None:
    """Write atomically, then keep only the CACHE_KEEP most recently used indexes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(blob)
    os.replace(partial, path)
    cached = sorted(path.parent.glob("outlines-*.index"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in cached[CACHE_KEEP:]:
        stale.unlink(missing_ok=True)
