"""`appliance bench --section concurrency`: many conversations at once, batched vs serial.

N conversations talk at the same time; each sends its messages one after another (the next when the
previous one's proposal came back), its earlier messages kept as context. Measured per N in (1, 4, 16),
serial and batched interleaved on the same loaded model, in one run:
- serial: today's one-at-a-time path (`LocalOrchestrator.propose` on one model thread, in arrival order);
- batched: the engine service `serve` uses (`scheduler.BatchScheduler`, one llama.cpp sequence per turn).

Latency is message -> proposal: from handing the conversation to the engine to the validated tool call
(the model part of message -> card; the card adds the store and the Teams round trip, which batching
does not change). `same_calls` says how many batched proposals equal the serial one for the same turn.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from appliance.engine.local import LocalOrchestrator
from appliance.engine.scheduler import BatchScheduler
from appliance.types import ContextMessage, Proposal
from appliance_dev.bench.engine import MESSAGES

LEVELS = (1, 4, 16)
TURNS_PER_CONVERSATION = 3
Submit = Callable[[list[ContextMessage]], "Future[Proposal]"]


def run(
    orchestrator: LocalOrchestrator,
    progress: Callable[[str], None],
    *,
    levels: tuple[int, ...] = LEVELS,
    turns: int = TURNS_PER_CONVERSATION,
) -> dict[str, Any]:
    """turns/s and p50/p95 message -> proposal per concurrency level, serial vs batched."""
    if orchestrator.runtime.sequences <= max(levels):
        raise ValueError(f"open the model with batch_size >= {max(levels)} for this benchmark")
    results: dict[str, Any] = {
        "concurrency.turns_per_conversation": turns,
        "concurrency.latency": "message -> proposal (in-process engine service; the card adds store + Teams)",
    }
    serial_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
    scheduler = BatchScheduler(orchestrator, queue_limit=max(levels) * 2)
    same = total = 0
    try:
        orchestrator.propose([ContextMessage(role="user", text=MESSAGES[0][0])])  # warm caches, untimed
        for n in levels:
            progress(f"concurrency: {n} conversations x {turns} messages, serial then batched")
            serial = _load(n, turns, lambda messages: serial_thread.submit(orchestrator.propose, messages))
            preempted_before = scheduler.decoder.preemptions
            batched = _load(n, turns, scheduler.submit)
            results[f"concurrency.batched.c{n}.preemptions"] = scheduler.decoder.preemptions - preempted_before
            for mode, outcome in (("serial", serial), ("batched", batched)):
                results.update(
                    {f"concurrency.{mode}.c{n}.{key}": value for key, value in outcome.items() if key != "calls"}
                )
            results[f"concurrency.c{n}.batched_vs_serial_turns_per_s"] = batched["turns_per_s"] / serial["turns_per_s"]
            same += sum(a == b for a, b in zip(serial["calls"], batched["calls"], strict=True))
            total += len(serial["calls"])
    finally:
        scheduler.close()
        serial_thread.shutdown(wait=True)
    results["concurrency.same_calls"] = f"{same}/{total}"
    return results


def _conversation(index: int, turn: int) -> list[ContextMessage]:
    texts = [MESSAGES[(index + step) % len(MESSAGES)][0] for step in range(turn + 1)]
    return [ContextMessage(role="user", text=text) for text in texts]


def _load(n: int, turns: int, submit: Submit) -> dict[str, Any]:
    """`n` closed-loop conversations, each on its own client thread; returns throughput and latencies."""
    latencies: list[float] = []
    calls: dict[tuple[int, int], tuple[str, str] | str] = {}
    lock = threading.Lock()

    def conversation(index: int) -> None:
        for turn in range(turns):
            started = time.perf_counter()
            try:
                proposal = submit(_conversation(index, turn)).result(timeout=600)
                call: tuple[str, str] | str = (proposal.call.tool, str(sorted(proposal.call.arguments.items())))
            except Exception as exc:  # counted, never hidden: a failed turn shows in the JSON
                call = f"error: {type(exc).__name__}"
            with lock:
                latencies.append(time.perf_counter() - started)
                calls[(index, turn)] = call

    clients = [threading.Thread(target=conversation, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    seconds = time.perf_counter() - started
    return {
        "turns_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": statistics.quantiles(latencies, n=20, method="inclusive")[-1] * 1000,
        "errors": sum(isinstance(call, str) for call in calls.values()),
        "calls": [calls[key] for key in sorted(calls)],
    }
