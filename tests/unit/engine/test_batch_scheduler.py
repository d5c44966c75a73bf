"""The batch scheduler and decoder with a scripted multi-sequence model (no llama.cpp): greedy results
equal serial decoding, each sequence keeps its own grammar, a failing turn ends alone, admission is in
arrival order and never overtakes a waiting turn, the queue is bounded, and close drains it."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import Future

import pytest

from appliance.engine.batch import BatchDecoder
from appliance.engine.local import kv_cells
from appliance.engine.scheduler import BatchingProposer, BatchScheduler
from appliance.errors import ConstraintViolation, EngineBusy, ModelError
from appliance.types import Proposal
from tests.unit.engine.scripted_model import (
    PREFIX,
    ScriptedModel,
    ScriptedOrchestrator,
    grammar_of,
    message,
    suffix_of,
    turn_text,
)

TEXTS = [turn_text(length=4 + i % 5, seed=i, prompt=3 + (i * 5) % 11) for i in range(9)]


def serial(texts: list[str]) -> list[str]:
    """Each message decoded alone, one after another, on a model of its own."""
    orchestrator = ScriptedOrchestrator(ScriptedModel(sequences=1))
    return [orchestrator.propose(message(text)).raw_text for text in texts]


def batched(
    texts: list[str], *, fail_first_decode: bool = False, **model: int
) -> tuple[list[Future[Proposal]], ScriptedModel, BatchScheduler]:
    """Queue every message before the scheduler prepares the first one, so they meet in one batch."""
    runtime = ScriptedModel(**model)
    runtime.fail_next_decode = fail_first_decode
    orchestrator = ScriptedOrchestrator(runtime)
    orchestrator.hold.clear()
    scheduler = BatchScheduler(orchestrator)  # type: ignore[arg-type]
    futures = [scheduler.submit(message(text)) for text in texts]
    orchestrator.hold.set()
    return futures, runtime, scheduler


def results(futures: list[Future[Proposal]]) -> list[str]:
    return [future.result(timeout=10).raw_text for future in futures]


def first_fed(runtime: ScriptedModel) -> list[list[int]]:
    """The prompts in the order their sequences were first fed (= admission order)."""
    order = []
    for step in runtime.steps:
        order += [tokens for _seq, start, tokens, _want in step if start == len(PREFIX)]
    return order


def test_batched_greedy_outputs_equal_serial_decoding() -> None:
    futures, runtime, scheduler = batched(TEXTS, sequences=4, n_batch=8)  # 3 at once; prompts spread over steps
    assert results(futures) == serial(TEXTS)
    assert len(set(results(futures))) == len(TEXTS)  # different outputs: the comparison can tell them apart
    assert max(len(step) for step in runtime.steps) == 3  # they really were decoded together
    assert len(runtime.thread_ids) == 1  # the model is only ever used from the model thread
    scheduler.close()
    assert runtime.histories.keys() == {0} and scheduler.decoder.slots == 3  # nothing leaked


def test_a_tight_batch_of_one_token_per_decode_still_equals_serial() -> None:
    futures, runtime, scheduler = batched(TEXTS[:4], sequences=5, n_batch=1)
    assert results(futures) == serial(TEXTS[:4])
    assert all(sum(len(tokens) for _, _, tokens, _ in step) == 1 for step in runtime.steps)
    scheduler.close()


def test_each_sequence_decodes_under_its_own_grammar() -> None:
    futures, _runtime, scheduler = batched(TEXTS, sequences=9)
    for text, output in zip(TEXTS, results(futures), strict=True):
        allowed = grammar_of(text)
        tokens = [int(t) for t in output.split()]
        assert len(tokens) == len(allowed) and all(t in allowed[i] for i, t in enumerate(tokens)), text
    scheduler.close()


def test_a_failing_turn_ends_alone_and_the_others_are_unharmed() -> None:
    good = TEXTS[:3]
    texts = [good[0], turn_text(mode="dead", seed=3), good[1], turn_text(mode="invalid", seed=4),
             turn_text(mode="unpreparable"), good[2]]
    futures, runtime, scheduler = batched(texts, sequences=6)
    with pytest.raises(ConstraintViolation, match="allows no token"):
        futures[1].result(timeout=10)
    with pytest.raises(ConstraintViolation, match="failed validation"):
        futures[3].result(timeout=10)
    with pytest.raises(ModelError, match="does not fit"):
        futures[4].result(timeout=10)
    assert results([futures[0], futures[2], futures[5]]) == serial(good)
    assert runtime.histories.keys() == {0} and scheduler.decoder.slots == 5
    scheduler.close()


def test_a_failed_decode_ends_only_the_turns_in_it_and_the_scheduler_goes_on() -> None:
    futures, runtime, scheduler = batched(TEXTS[:2], sequences=4, fail_first_decode=True)
    for future in futures:
        with pytest.raises(ModelError, match="scripted decode failure"):
            future.result(timeout=10)
    assert runtime.histories.keys() == {0}
    later = scheduler.submit(message(TEXTS[2]))
    assert later.result(timeout=10).raw_text == serial([TEXTS[2]])[0]
    scheduler.close()


def test_turns_are_admitted_in_arrival_order_and_a_big_turn_is_not_overtaken() -> None:
    first, big, small_1, small_2 = (
        turn_text(prompt=10, length=6, seed=1),  # 16 cells
        turn_text(prompt=20, length=10, seed=2),  # 30 cells: does not fit beside the first
        turn_text(prompt=3, length=3, seed=3),  # 6 cells: would fit, but must not overtake the big one
        turn_text(prompt=3, length=3, seed=4),
    )
    texts = [first, big, small_1, small_2]
    futures, runtime, scheduler = batched(texts, sequences=5, n_ctx=len(PREFIX) + 40)
    assert results(futures) == serial(texts)
    fed = first_fed(runtime)  # each prompt, followed by the tokens its grammar forces first
    assert [tokens[: len(suffix_of(text))] for tokens, text in zip(fed, texts, strict=True)] == [
        suffix_of(text) for text in texts
    ]
    began: dict[int, int] = {}  # sequence -> the step its current turn began in
    big_began: int | None = None
    for index, step in enumerate(runtime.steps):
        for seq, start, tokens, _want in step:
            if start == len(PREFIX):
                began[seq] = index
                big_began = index if tokens[: len(suffix_of(big))] == suffix_of(big) else big_began
        if big_began is not None:  # from then on only the big turn and turns admitted after it run
            assert all(began[seq] >= big_began for seq, *_ in step), "the big turn ran beside the first one"
    assert big_began is not None
    scheduler.close()


def test_a_turn_preempted_for_kv_cells_runs_again_first_and_still_equals_serial() -> None:
    texts = [turn_text(prompt=5, length=12, seed=7 + i) for i in range(3)]
    runtime = ScriptedModel(sequences=3, n_ctx=len(PREFIX) + 26)  # two fit at first, not fully grown
    orchestrator = ScriptedOrchestrator(runtime)
    orchestrator.hold.clear()
    scheduler = BatchScheduler(orchestrator, headroom=1)  # type: ignore[arg-type]
    futures = [scheduler.submit(message(text)) for text in texts]
    orchestrator.hold.set()
    assert results(futures) == serial(texts)
    assert scheduler.decoder.preemptions >= 1 and scheduler.decoder.peak == 2
    starts = [next(t for t in texts if tokens[:5] == suffix_of(t)) for tokens in first_fed(runtime)]
    collapsed = [t for i, t in enumerate(starts) if i == 0 or starts[i - 1] != t]
    assert collapsed == texts  # the preempted turn ran again before the one that arrived after it
    scheduler.close()


def test_a_context_sized_by_kv_cells_decodes_a_full_batch_of_full_turns_together() -> None:
    """Turns that each fill the conversation budget: in a context of only the model's length (the old
    sizing) the batch is cut short; sized by `kv_cells` every one runs at once and none is preempted."""
    budget, batch = 24, 4
    texts = [turn_text(prompt=budget, length=10, seed=40 + i) for i in range(batch)]
    context_length = len(PREFIX) + budget + 64  # one full turn fits, as the model's own context allows
    peaks = {}
    for sizing, n_ctx in (("model only", context_length), ("kv_cells", kv_cells(context_length, budget, batch))):
        futures, _runtime, scheduler = batched(texts, sequences=batch + 1, n_ctx=n_ctx)
        assert results(futures) == serial(texts)
        scheduler.close()
        peaks[sizing] = (scheduler.decoder.peak, scheduler.decoder.preemptions)
    assert peaks["kv_cells"] == (batch, 0)
    assert peaks["model only"][0] < batch


def test_generating_sequences_take_turns_when_the_batch_is_tight() -> None:
    runtime = ScriptedModel(sequences=5, n_batch=64)
    orchestrator = ScriptedOrchestrator(runtime)
    decoder = BatchDecoder(runtime, len(PREFIX))
    texts = [turn_text(length=12, seed=seed) for seed in range(4)]
    for text in texts:
        turn = orchestrator.prepare(message(text))
        decoder.add(text, turn.suffix, turn.grammar.max_tokens, turn.grammar.constraint.start())
    finished = decoder.step()  # every prompt in one decode: all four generate from here
    runtime.n_batch = 3  # then room for 3 tokens a step: someone always waits
    fed_at = {seq: 1 for seq, *_ in runtime.steps[0]}  # sequence -> the step it was last fed in
    while decoder.active:
        finished += decoder.step()
        for seq, *_ in runtime.steps[-1]:
            fed_at[seq] = len(runtime.steps)
        running = [seq for seq in fed_at if seq in runtime.histories]
        assert all(len(runtime.steps) - fed_at[seq] < 3 for seq in running), f"left behind: {runtime.steps[-4:]}"
    assert {f.tag: f.generation.text for f in finished if f.generation} == dict(zip(texts, serial(texts), strict=True))


def test_prompts_are_fed_oldest_first_one_after_another_not_round_robin() -> None:
    """With room for less than one prompt a step, the oldest prompt gets the whole budget until it is in,
    so its turn starts generating (and can finish) before the next prompt takes cells and compute."""
    runtime = ScriptedModel(sequences=4, n_batch=4)
    orchestrator = ScriptedOrchestrator(runtime)
    decoder = BatchDecoder(runtime, len(PREFIX))
    texts = [turn_text(prompt=10, length=3, seed=60 + i) for i in range(3)]
    for text in texts:
        turn = orchestrator.prepare(message(text))
        decoder.add(text, turn.suffix, turn.grammar.max_tokens, turn.grammar.constraint.start())
    first_seen: dict[int, int] = {}
    last_prompt_chunk: dict[int, int] = {}
    finished = []
    while decoder.active:
        finished += decoder.step()
        step = len(runtime.steps)
        for seq, start, _tokens, _want in runtime.steps[-1]:
            first_seen.setdefault(seq, step)
            if start < len(PREFIX) + 10:
                last_prompt_chunk[seq] = step
    by_admission = sorted(first_seen, key=first_seen.__getitem__)
    for earlier, later in itertools.pairwise(by_admission):
        assert last_prompt_chunk[earlier] <= first_seen[later], (last_prompt_chunk, first_seen)
    assert {f.tag: f.generation.text for f in finished if f.generation} == dict(zip(texts, serial(texts), strict=True))


def test_each_turn_finishes_on_its_own() -> None:
    long, short = turn_text(length=20, seed=5), turn_text(length=2, seed=6)
    futures, _runtime, scheduler = batched([long, short], sequences=3)
    finished: list[str] = []
    for text, future in zip((long, short), futures, strict=True):
        future.add_done_callback(lambda _f, text=text: finished.append(text))
    results(futures)
    assert finished == [short, long]  # the short turn did not wait for the long one in its batch
    scheduler.close()


def test_the_queue_is_bounded_and_says_so() -> None:
    orchestrator = ScriptedOrchestrator(ScriptedModel(sequences=3))
    orchestrator.hold.clear()  # the first turn stays at the head of the queue while it is prepared
    scheduler = BatchScheduler(orchestrator, queue_limit=2)  # type: ignore[arg-type]
    futures = [scheduler.submit(message(TEXTS[0])), scheduler.submit(message(TEXTS[1]))]
    with pytest.raises(EngineBusy, match="2 turns are already waiting"):
        scheduler.submit(message(TEXTS[2]))
    orchestrator.hold.set()
    assert results(futures) == serial(TEXTS[:2])
    scheduler.close()


def test_close_lets_queued_turns_finish_and_then_refuses_new_ones() -> None:
    futures, _runtime, scheduler = batched(TEXTS[:6], sequences=3)
    scheduler.close()
    assert all(future.done() for future in futures)
    assert results(futures) == serial(TEXTS[:6])
    with pytest.raises(ModelError, match="shutting down"):
        scheduler.submit(message(TEXTS[0]))


def test_a_turn_whose_caller_gave_up_is_never_decoded() -> None:
    orchestrator = ScriptedOrchestrator(ScriptedModel(sequences=3))
    orchestrator.hold.clear()
    scheduler = BatchScheduler(orchestrator)  # type: ignore[arg-type]
    kept, abandoned = scheduler.submit(message(TEXTS[0])), scheduler.submit(message(TEXTS[1]))
    assert abandoned.cancel()
    orchestrator.hold.set()
    assert kept.result(timeout=10).raw_text == serial([TEXTS[0]])[0]
    scheduler.close()
    assert orchestrator.prepared == [TEXTS[0]]


async def test_the_proposer_decodes_concurrent_awaits_together() -> None:
    runtime = ScriptedModel(sequences=5)
    proposer = BatchingProposer(ScriptedOrchestrator(runtime), "scripted")  # type: ignore[arg-type]
    proposals = await asyncio.gather(*(proposer.propose(message(text)) for text in TEXTS[:4]))
    assert [p.raw_text for p in proposals] == serial(TEXTS[:4]) and proposer.name == "scripted"
    proposer.close()
