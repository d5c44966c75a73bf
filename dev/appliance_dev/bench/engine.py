"""The engine section of `appliance bench`: everything measured side by side in one run and one process.

- decode.*_ms_per_token: the same messages, the same lean loop, free vs llguidance vs outlines
  (constrained runs without fast-forward, so each token costs one decode step in every column);
- toolcall.ff_vs_free_ratio: a whole tool call with fast-forward vs the same tokens generated one
  decode step each (what a free loop pays for the same text);
- ttft.cached_ms / ttft.cold_ms: first token with the system prefix's KV reused vs evaluated anew;
- compile.*_ms: grammar compile for one message (grounded), llguidance vs outlines (uncached);
- toolcall.accuracy: share of labelled messages where the model picked the expected tool;
- rss_mb: peak RSS of the appliance's own path (model + llguidance), before any outlines index is
  built (each outlines index for this vocabulary holds ~180 MB; rss_mb.with_outlines_indexes).
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np

from appliance.engine.decode import generate
from appliance.engine.local import LocalOrchestrator
from appliance.engine.outlines_backend import compile_outlines, outlines_vocabulary
from appliance.engine.prompt import split_prompt
from appliance.types import ContextMessage
from appliance_dev.corpus import BENIGN

Progress = Callable[[str], None]

MESSAGES: tuple[tuple[str, str], ...] = (
    ("Who is sarah.lin@contoso.com?", "m365_user_get"),
    ("Assign ENTERPRISEPACK to sarah.lin@contoso.com", "m365_license_assign"),
    ("Add doug@contoso.com to finance@contoso.com", "m365_group_add_member"),
    ("What licenses do we have?", "m365_license_list"),
    ("Reset the password of mike.chan@contoso.com", "m365_password_reset"),
    ("Disable the account of leaver@contoso.com", "m365_user_disable"),
    ("Show the sign-ins of priya.n@contoso.com in the last 7 days", "m365_signins_recent"),
    ("reset the password please", "reply"),
)
FREE_TOKENS = 48


def run(orchestrator: LocalOrchestrator, progress: Progress, *, repeats: int = 3) -> dict[str, Any]:
    """Run every engine measurement; return flat `section.key` results."""
    prompts = [_prompt(orchestrator, text) for text, _ in MESSAGES]
    results: dict[str, Any] = {"engine.model": orchestrator.entry.name, "engine.n_ctx": orchestrator.runtime.n_ctx}

    progress("toolcall: fast-forward vs free replay of the same tokens")
    results.update(_fast_forward(orchestrator, prompts, repeats))

    progress("ttft: cached prefix vs cold")
    results.update(_ttft(orchestrator, prompts[0], repeats))

    progress("compile: llguidance grammar per message")
    grammars = [orchestrator.grammar_for(conversation) for _suffix, conversation in prompts]
    results["compile.llguidance_ms"] = statistics.median(g.seconds for g in grammars) * 1000

    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    progress("decode: free vs llguidance vs outlines per token (interleaved, same prompts)")
    results.update(_per_token(orchestrator, prompts, repeats, progress))

    results.update(_accuracy(orchestrator, progress))
    results["rss_mb.with_outlines_indexes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def _accuracy(orchestrator: LocalOrchestrator, progress: Callable[[str], None]) -> dict[str, Any]:
    """Right-tool rate on the labelled corpus, without and with retrieved examples, measured in one run."""
    configured = orchestrator.retrieved_examples
    results: dict[str, Any] = {}
    for k in sorted({0, configured}):
        progress(f"accuracy on {len(BENIGN)} labelled messages, {k} retrieved examples")
        orchestrator.retrieved_examples = k
        started = time.perf_counter()
        hits = sum(
            orchestrator.propose([ContextMessage(role="user", text=text)]).call.tool == expected
            for text, expected in BENIGN
        )
        results[f"toolcall.accuracy.examples_{k}"] = hits / len(BENIGN)
        results[f"toolcall.ms_per_message.examples_{k}"] = (time.perf_counter() - started) * 1000 / len(BENIGN)
    orchestrator.retrieved_examples = configured
    results["toolcall.accuracy"] = results[f"toolcall.accuracy.examples_{configured}"]
    results["toolcall.retrieved_examples"] = configured
    return results


def _prompt(orchestrator: LocalOrchestrator, text: str) -> tuple[list[int], list[dict[str, str]]]:
    conversation = orchestrator.conversation([ContextMessage(role="user", text=text)])
    suffix = split_prompt(orchestrator.template, orchestrator.fixed, conversation).suffix
    return orchestrator.runtime.tokenize(suffix), conversation


def _per_token(
    orchestrator: LocalOrchestrator, prompts: Sequence[tuple[list[int], list[dict[str, str]]]],
    repeats: int, progress: Progress,
) -> dict[str, float]:
    """ms per generated token (prompt evaluation excluded, no fast-forward), the three loops
    interleaved on the same prompts and the same number of steps, so noise hits them alike."""
    runtime, n_prefix = orchestrator.runtime, len(orchestrator.prefix_tokens)
    started = time.perf_counter()
    vocabulary = outlines_vocabulary(runtime)
    vocab_seconds = time.perf_counter() - started
    progress(f"compiling {len(prompts)} outlines indexes (seconds each)")
    llg, outlines, compiles = [], [], []
    for _suffix, conversation in prompts:
        llg.append(orchestrator.grammar_for(conversation))
        started = time.perf_counter()
        index, _ = compile_outlines(llg[-1].schema, vocabulary, runtime, orchestrator.entry.sha256, None)
        compiles.append(time.perf_counter() - started)
        outlines.append(index)
    spent = {"free": 0.0, "llguidance": 0.0, "outlines": 0.0}
    steps = 0
    for _ in range(repeats):
        for (suffix, _conversation), grammar, index in zip(prompts, llg, outlines, strict=True):
            runtime.truncate(n_prefix)
            constrained = generate(runtime, suffix, FREE_TOKENS, grammar.constraint.start(), fast_forward=False)
            n = constrained.decode_calls - 1
            if n == 0:
                continue
            spent["llguidance"] += constrained.seconds - constrained.prompt_seconds
            runtime.truncate(n_prefix)
            other = generate(runtime, suffix, n, index.start(), fast_forward=False)
            spent["outlines"] += (other.seconds - other.prompt_seconds) * n / max(other.decode_calls - 1, 1)
            runtime.truncate(n_prefix)
            spent["free"] += _free_steps(orchestrator, suffix, n)
            steps += n
    per = {name: seconds / max(steps, 1) * 1000 for name, seconds in spent.items()}
    return {
        "decode.free_ms_per_token": per["free"],
        "decode.llguidance_ms_per_token": per["llguidance"],
        "decode.outlines_ms_per_token": per["outlines"],
        "decode.llguidance_vs_free_ratio": per["llguidance"] / per["free"],
        "decode.outlines_vs_free_ratio": per["outlines"] / per["free"],
        "decode.steps_measured": steps,
        "compile.outlines_ms": statistics.median(compiles) * 1000,
        "compile.outlines_vocabulary_ms": vocab_seconds * 1000,
    }


def _free_steps(orchestrator: LocalOrchestrator, suffix: list[int], steps: int) -> float:
    """The free loop's cost for `steps` tokens after the prompt: one decode + argmax each."""
    runtime = orchestrator.runtime
    logits = runtime.decode(suffix)
    started = time.perf_counter()
    for _ in range(steps):
        logits = runtime.decode([int(np.argmax(logits))])
    return time.perf_counter() - started


def _fast_forward(
    orchestrator: LocalOrchestrator, prompts: Sequence[tuple[list[int], list[dict[str, str]]]], repeats: int
) -> dict[str, float]:
    runtime, n_prefix = orchestrator.runtime, len(orchestrator.prefix_tokens)
    with_ff = replay = 0.0
    decode_steps = generated = 0
    for _ in range(repeats):
        for suffix, conversation in prompts:
            grammar = orchestrator.grammar_for(conversation)
            runtime.truncate(n_prefix)
            out = generate(runtime, suffix, grammar.max_tokens, grammar.constraint.start(), fast_forward=True)
            with_ff += out.seconds
            decode_steps += out.decode_calls
            generated += len(out.tokens)
            runtime.truncate(n_prefix)
            replay += _replay_free(orchestrator, suffix, out.tokens)
    return {
        "toolcall.ff_ms": with_ff / (repeats * len(prompts)) * 1000,
        "toolcall.free_ms": replay / (repeats * len(prompts)) * 1000,
        "toolcall.ff_vs_free_ratio": with_ff / replay,
        "toolcall.decode_calls_per_call": decode_steps / (repeats * len(prompts)),
        "toolcall.tokens_per_call": generated / (repeats * len(prompts)),
    }


def _replay_free(orchestrator: LocalOrchestrator, suffix: list[int], tokens: list[int]) -> float:
    """What a free loop pays for the same text: prompt, then one decode + argmax per token."""
    runtime = orchestrator.runtime
    started = time.perf_counter()
    logits = runtime.decode(suffix)
    for token in tokens:
        int(np.argmax(logits))
        logits = runtime.decode([token])
    return time.perf_counter() - started


def _ttft(orchestrator: LocalOrchestrator, prompt: tuple[list[int], Any], repeats: int) -> dict[str, float]:
    runtime, prefix = orchestrator.runtime, orchestrator.prefix_tokens
    suffix = prompt[0]
    cached, cold = [], []
    for _ in range(repeats):
        runtime.truncate(len(prefix))
        started = time.perf_counter()
        int(np.argmax(runtime.decode(suffix)))
        cached.append(time.perf_counter() - started)
        runtime.truncate(0)
        started = time.perf_counter()
        int(np.argmax(runtime.decode(prefix + suffix)))
        cold.append(time.perf_counter() - started)
    runtime.truncate(0)
    runtime.decode(prefix)  # leave the prefix cache as the orchestrator expects it
    return {
        "ttft.cached_ms": statistics.median(cached) * 1000,
        "ttft.cold_ms": statistics.median(cold) * 1000,
        "ttft.cached_vs_cold_ratio": statistics.median(cached) / statistics.median(cold),
        "prefix.tokens": len(prefix),
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import os
    import platform

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "machine.cpu": cpu,
        "machine.cores": os.cpu_count(),
        "machine.python": platform.python_version(),
        "machine.llama_cpp_python": llama_cpp.__version__,
        "machine.system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
    }
