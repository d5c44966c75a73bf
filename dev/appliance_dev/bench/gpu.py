"""The engine on a GPU host: `python -m appliance_dev.bench.gpu MODEL.gguf OUT.json` (dev/gpu/README.md).

The same measurements as `appliance bench --section engine` and `--section concurrency`, on any GGUF
(not only a manifest model), with every layer offloaded, each step bounded and the JSON rewritten after
each step, so a run stopped by a timeout keeps what it measured. In this order:
1. decode.*: ms per generated token, free greedy loop vs llguidance-constrained (no fast-forward), the
   same prompts and steps; (outlines is left out: its index for a 128k vocabulary takes ~70 s a message);
2. toolcall.*: a whole tool call with fast-forward vs the same tokens one decode step each;
3. ttft.*: first token with the system prefix's KV cached vs evaluated anew;
4. decode.raw_ms_per_token: bare `llama_decode` of one token (no argmax, no grammar), and the share of
   the GPU's memory-bandwidth limit it reaches (bytes of weights read per token / bandwidth);
5. propose.*: message -> proposal p50/p95 with the settings `serve` uses (retrieved examples, router);
6. concurrency.*: serial vs batched (the scheduler `serve` uses) at 1, 4 and 16 conversations, with
   the model opened again with one sequence per conversation.
Accuracy is not measured here: the timing model has random weights (dev/gpu/mkq4k.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import llama_cpp  # noqa: F401  (before numpy: two OpenMP runtimes segfaulted on the CUDA image)

from appliance.catalog import DEFAULT_CATALOG
from appliance.config import EngineSettings
from appliance.engine.decode import generate
from appliance.engine.local import LocalOrchestrator, open_local
from appliance.engine.manifest import ModelEntry, sha256_file
from appliance.types import ContextMessage
from appliance_dev.bench import concurrency
from appliance_dev.bench import engine as bench

# Peak HBM bandwidth by GPU name (vendor data sheets, bytes/s); the longest matching name wins.
HBM_BYTES_PER_S = {
    "H100 PCIe": 2.0e12,
    "H100 NVL": 3.9e12,
    "H100": 3.35e12,  # H100 SXM5 80GB HBM3
    "H200": 4.8e12,
    "A100": 2.0e12,
    "L40S": 0.864e12,
}
RAW_STEPS = 64


class Report:
    """The flat results, rewritten to `path` after every step."""

    def __init__(self, path: Path, deadline: float) -> None:
        self.path = path
        self.deadline = deadline
        self.results: dict[str, Any] = {"gpu_bench.started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.started = time.perf_counter()

    def left(self) -> float:
        """Seconds left of the run's budget."""
        return self.deadline - time.perf_counter()

    def step(self, name: str, needs_s: float, measure: Callable[[], dict[str, Any]]) -> bool:
        """Run one measurement if `needs_s` seconds are left, record its results (or why it did not run or
        how it failed) and save; False when the budget skipped it. A failure does not stop the run."""
        if self.left() < needs_s:
            self.results[f"skipped.{name}"] = f"budget: {self.left():.0f} s left, the step needs ~{needs_s:.0f} s"
            self.save()
            return False
        started = time.perf_counter()
        print(f"[gpu-bench] {name} ...", file=sys.stderr, flush=True)
        try:
            self.results.update(measure())
        except Exception as exc:  # recorded, never hidden: the JSON says which step failed and why
            self.results[f"failed.{name}"] = f"{type(exc).__name__}: {exc}"
        self.results[f"seconds.{name}"] = round(time.perf_counter() - started, 2)
        self.save()
        return True

    def save(self) -> None:
        """Write the JSON (atomically, so a kill mid-write keeps the previous step's)."""
        self.results["gpu_bench.elapsed_s"] = round(time.perf_counter() - self.started, 1)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        partial.replace(self.path)


def gpu_name() -> str | None:
    """The first GPU's name as nvidia-smi reports it, or None without one."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        shown = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return shown.splitlines()[0] if shown else None


def hbm_bandwidth(name: str | None) -> float | None:
    """Peak memory bandwidth for a GPU name (bytes/s), None if unknown."""
    if not name:
        return None
    matches = [key for key in HBM_BYTES_PER_S if key in name]
    return HBM_BYTES_PER_S[max(matches, key=len)] if matches else None


def weight_bytes_per_token(model: Path) -> int:
    """Bytes of weights one decode step reads: every tensor but the token embedding (a row lookup)."""
    from gguf import GGUFReader

    reader = GGUFReader(model)
    return sum(int(t.n_bytes) for t in reader.tensors if t.name != "token_embd.weight")


def open_model(model: Path, entry: ModelEntry, ngl: int, batch_size: int, threads: int) -> LocalOrchestrator:
    """The model as `serve` opens it (the settings' defaults), with `ngl` layers on the GPU."""
    engine = EngineSettings()
    return open_local(
        entry, model.parent, DEFAULT_CATALOG, backend="llguidance", context_tokens=engine.context_tokens,
        n_threads=threads, n_gpu_layers=ngl, retrieved_examples=engine.retrieved_examples,
        route_tools=engine.route_tools, batch_size=batch_size,
    )


def per_token(orch: LocalOrchestrator, prompts: list[Any], repeats: int) -> dict[str, Any]:
    """Free vs llguidance ms per generated token, interleaved on the same prompts and steps
    (`bench.engine._per_token` without the outlines column)."""
    runtime, n_prefix = orch.runtime, len(orch.prefix_tokens)
    grammars = [orch.grammar_for(conversation) for _suffix, conversation in prompts]
    spent = {"free": 0.0, "llguidance": 0.0}
    steps = masked = sampled = 0
    for _ in range(repeats):
        for (suffix, _conversation), grammar in zip(prompts, grammars, strict=True):
            runtime.truncate(n_prefix)
            constrained = generate(runtime, suffix, bench.FREE_TOKENS, grammar.constraint.start(), fast_forward=False)
            n = constrained.decode_calls - 1
            if n == 0:
                continue
            spent["llguidance"] += constrained.seconds - constrained.prompt_seconds
            masked += constrained.masked
            sampled += constrained.sampled
            runtime.truncate(n_prefix)
            spent["free"] += bench._free_steps(orch, suffix, n)
            steps += n
    if steps == 0:
        raise RuntimeError("no message generated a token after its prompt")
    return {
        "compile.llguidance_ms": statistics.median(g.seconds for g in grammars) * 1000,
        "decode.steps_measured": steps,
        "decode.full_mask_share": masked / max(sampled, 1),
        "decode.free_ms_per_token": spent["free"] / steps * 1000,
        "decode.llguidance_ms_per_token": spent["llguidance"] / steps * 1000,
        "decode.llguidance_vs_free_ratio": spent["llguidance"] / spent["free"],
    }


def raw_decode(orch: LocalOrchestrator, prompt: list[int], model: Path, bandwidth: float | None) -> dict[str, Any]:
    """Bare one-token `llama_decode` steps after a prompt: the floor the Python loop sits on."""
    runtime = orch.runtime
    runtime.truncate(len(orch.prefix_tokens))
    runtime.decode(prompt)
    token = prompt[-1]
    started = time.perf_counter()
    for _ in range(RAW_STEPS):
        runtime.decode([token])
    raw_ms = (time.perf_counter() - started) / RAW_STEPS * 1000
    runtime.truncate(len(orch.prefix_tokens))
    weights = weight_bytes_per_token(model)
    out: dict[str, Any] = {"decode.raw_ms_per_token": raw_ms, "decode.weight_bytes_per_token": weights}
    if bandwidth:
        floor_ms = weights / bandwidth * 1000
        out["decode.hbm_bytes_per_s"] = bandwidth
        out["decode.hbm_floor_ms_per_token"] = floor_ms
        out["decode.share_of_hbm_limit_raw"] = floor_ms / raw_ms
    return out


def proposals(orch: LocalOrchestrator, rounds: int) -> dict[str, Any]:
    """message -> proposal (the model's part of message -> card), as `serve` runs it; one message at a time."""
    latencies, tokens, prompt_tokens = [], [], []
    errors = 0
    tools: dict[str, int] = {}
    for _ in range(rounds):
        for text, _expected in bench.MESSAGES:
            started = time.perf_counter()
            try:
                proposal = orch.propose([ContextMessage(role="user", text=text)])
            except Exception:  # counted: a random-weight model may write an argument the catalog refuses
                errors += 1
                latencies.append(time.perf_counter() - started)
                continue
            latencies.append(proposal.seconds)
            tokens.append(proposal.generated_tokens)
            prompt_tokens.append(proposal.prompt_tokens)
            tools[proposal.call.tool] = tools.get(proposal.call.tool, 0) + 1
    ordered = sorted(latencies)
    return {
        "propose.messages": len(latencies),
        "propose.errors": errors,
        "propose.p50_ms": statistics.median(ordered) * 1000,
        "propose.p95_ms": statistics.quantiles(ordered, n=20, method="inclusive")[-1] * 1000,
        "propose.generated_tokens_mean": statistics.mean(tokens) if tokens else 0,
        "propose.prompt_tokens_mean": statistics.mean(prompt_tokens) if prompt_tokens else 0,
        "propose.tools": json.dumps(tools, sort_keys=True),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every step within `--budget-s` seconds; the JSON holds what was measured."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n-gpu-layers", type=int, default=-1)
    parser.add_argument("--n-threads", type=int, default=EngineSettings().n_threads, help="0 = all cores")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--propose-rounds", type=int, default=2)
    parser.add_argument("--steps", default="decode,toolcall,ttft,raw,propose", help="single-sequence steps to run")
    parser.add_argument("--levels", default="1,4,16", help="concurrency levels ('' to skip)")
    parser.add_argument("--turns", type=int, default=concurrency.TURNS_PER_CONVERSATION)
    parser.add_argument("--budget-s", type=float, default=150.0, help="steps that would not fit are skipped")
    parser.add_argument("--hbm-bytes-per-s", type=float, default=None, help="default: by the GPU's name")
    args = parser.parse_args(argv)

    report = Report(args.out, time.perf_counter() + args.budget_s)
    model: Path = args.model.resolve()
    name = gpu_name()
    bandwidth = args.hbm_bytes_per_s or hbm_bandwidth(name)
    r = report.results
    r.update(bench.machine())
    r.update({"machine.gpu": name or "none", "model.file": model.name, "model.bytes": model.stat().st_size,
              "n_gpu_layers": args.n_gpu_layers, "n_threads": args.n_threads})
    started = time.perf_counter()
    sha = sha256_file(model)
    r["startup.sha256_s"] = time.perf_counter() - started
    entry = ModelEntry(key="gpu-bench", name=model.stem, file=model.name, sha256=sha, license="n/a",
                       chat_template_source="gguf:tokenizer.chat_template", context_length=8192, source=None)
    started = time.perf_counter()
    orch = open_model(model, entry, args.n_gpu_layers, batch_size=1, threads=args.n_threads)
    r["startup.open_local_s"] = time.perf_counter() - started
    r.update({"prefix.tokens": len(orch.prefix_tokens), "prefix.eval_ms": orch.prefix_seconds * 1000,
              "engine.route_tools": orch.route_tools, "engine.retrieved_examples": orch.retrieved_examples,
              "engine.n_ctx": orch.runtime.n_ctx})
    report.save()
    try:
        prompts = [bench._prompt(orch, text) for text, _ in bench.MESSAGES]
        steps: dict[str, tuple[float, Callable[[], dict[str, Any]]]] = {
            "decode": (5, lambda: per_token(orch, prompts, args.repeats)),
            "toolcall": (5, lambda: bench._fast_forward(orch, prompts, args.repeats)),
            "ttft": (2, lambda: bench._ttft(orch, prompts[0], args.repeats)),
            "raw": (2, lambda: raw_decode(orch, prompts[0][0], model, bandwidth)),
            "propose": (5, lambda: proposals(orch, args.propose_rounds)),
        }
        for name, (needs_s, measure) in steps.items():
            if name in args.steps.split(","):
                report.step(name, needs_s, measure)
    finally:
        orch.close()
    levels = [int(n) for n in args.levels.split(",") if n.strip()]
    if levels:
        batched_run(report, model, entry, args.n_gpu_layers, args.n_threads, levels, args.turns)
    report.results["gpu_bench.finished"] = True
    report.save()
    return 0


def batched_run(
    report: Report, model: Path, entry: ModelEntry, ngl: int, threads: int, levels: list[int], turns: int
) -> None:
    """Serial vs batched at each level (`bench.concurrency`), each level saved on its own; a level is
    skipped when the last one's time, scaled by the growth in turns, would not fit what is left."""
    started = time.perf_counter()
    try:
        orch = open_model(model, entry, ngl, batch_size=max(levels), threads=threads)
    except Exception as exc:
        report.results["failed.concurrency_open"] = f"{type(exc).__name__}: {exc}"
        report.save()
        return
    report.results["concurrency.open_s"] = time.perf_counter() - started
    report.results["concurrency.n_ctx"] = orch.runtime.n_ctx
    try:
        last_s, last_n = 0.0, 0
        for n in levels:
            needs = last_s * n / last_n * 1.2 if last_n else 5.0

            def level(n: int = n) -> dict[str, Any]:
                out = concurrency.run(orch, lambda message: None, levels=(n,), turns=turns)
                out[f"concurrency.c{n}.same_calls"] = out.pop("concurrency.same_calls")
                return out

            before = time.perf_counter()
            if not report.step(f"concurrency_c{n}", needs, level):
                break
            last_s, last_n = time.perf_counter() - before, n
    finally:
        orch.close()


if __name__ == "__main__":
    sys.exit(main())
