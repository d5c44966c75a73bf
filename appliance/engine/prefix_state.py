"""The system prefix's KV state kept on disk, for dev set-ups only (`[graph] dev = true`).

Every `serve --dev` start evaluates the same system prefix (about 1,800 tokens: 30-40 s of the 20-45 s
start on the 2-core development machine), and the test suite and the demo start many such processes.
Here the cells llama.cpp computed are saved once (`llama_state_seq_get_data`) and put back into the
next identical context (`llama_state_seq_set_data`): the very bytes the evaluation would produce again,
so a restored prefix proposes exactly what an evaluated one does (tests/integration/engine/
test_prefix_state.py). The file's name is the sha256 of everything the cells depend on (the model's
sha256, the prefix tokens, the context's shape and threads, llama-cpp-python's version); its content
starts with its own sha256, so a cut-short or altered file is evaluated again and replaced.

Production never reads or writes one (`build_local_orchestrator` passes a directory only in dev): a
KV state cannot be checked against anything but a fresh evaluation, while the model file is checked
against the manifest's sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

import llama_cpp

from appliance.engine.runtime import LlamaRuntime

KEEP = 12
"""Newest state files kept in the directory (one per model x catalog x context shape; ~40 MB each)."""


def state_key(runtime: LlamaRuntime, model_sha256: str, tokens: list[int]) -> str:
    """The sha256 of everything the prefix's cells depend on."""
    shape = {
        "model": model_sha256, "llama_cpp": llama_cpp.__version__, "n_ctx": runtime.n_ctx,
        "n_batch": runtime.n_batch, "threads": runtime.n_threads, "gpu_layers": runtime.n_gpu_layers,
        "sequences": runtime.sequences, "tokens": tokens,
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode("utf-8")).hexdigest()


def evaluate_prefix(runtime: LlamaRuntime, tokens: list[int], model_sha256: str, directory: Path | None) -> bool:
    """Leave `tokens` evaluated in sequence 0 (and nothing after them). With `directory`, restore the
    cells from a file an identical evaluation saved, else evaluate and save them. Returns whether they
    were restored."""
    if directory is None:
        _evaluate(runtime, tokens)
        return False
    path = directory / f"{state_key(runtime, model_sha256, tokens)}.kv"
    if _restore(runtime, path, len(tokens)):
        return True
    _evaluate(runtime, tokens)
    _save(runtime, path)
    return False


def _evaluate(runtime: LlamaRuntime, tokens: list[int]) -> None:
    runtime.truncate(0)
    runtime.decode(tokens)


def _restore(runtime: LlamaRuntime, path: Path, n_tokens: int) -> bool:
    try:
        content = path.read_bytes()
    except OSError:
        return False
    digest, data = content[:32], content[32:]
    if not data or hashlib.sha256(data).digest() != digest:
        return False
    if not runtime.restore_prefix_state(data, n_tokens):
        return False
    with contextlib.suppress(OSError):
        os.utime(path)  # the newest use counts for _prune
    return True


def _save(runtime: LlamaRuntime, path: Path) -> None:
    """Write atomically (two processes may start at once); a failure only costs the next start its time."""
    data = runtime.prefix_state()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(hashlib.sha256(data).digest() + data)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        _prune(path.parent)


def _prune(directory: Path) -> None:
    """Keep the KEEP newest state files (each catalog a test disables tools from makes its own)."""
    files = sorted(directory.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
