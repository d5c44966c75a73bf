"""`appliance bench`: measured side by side in one run; results as JSON (see docs/BENCHMARKS.md)."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from appliance.config import load_settings

SECTIONS = ("engine", "concurrency", "store", "graph", "writes", "e2e")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on stdout.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Also write the JSON to this file.")
@click.option("--section", "sections", multiple=True, type=click.Choice(SECTIONS),
              help="Run only these sections (default: all that are built).")
@click.option("--repeats", default=3, show_default=True, help="Repetitions of each engine measurement.")
def bench(as_json: bool, out: Path | None, sections: tuple[str, ...], repeats: int) -> None:
    """Benchmark the engine (free vs constrained decoding, fast-forward, prefix cache, compile times,
    RSS, tool accuracy with and without retrieved examples), many conversations at once (turns/s and
    p95 message -> proposal for 1, 4 and 16 conversations, batched vs serial), the encrypted store
    (SQLCipher vs plain SQLite), the Graph executors (vs the dev tenant), Graph writes per confirmed
    action under every write fault profile (never more than one) and the whole appliance end to
    end (message -> card and confirm -> outcome p50/p95, confirmations per second with many
    conversations at once).

    Ratios are measured within one run on one machine; compare ratios, not lone absolute times.
    """
    console = Console(stderr=True)
    results: dict[str, Any] = {"bench.started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    chosen = sections or SECTIONS
    with console.status("benchmarking") as status:

        def progress(message: str) -> None:
            status.update(f"bench: {message}")
            console.log(message)

        if "engine" in chosen:
            results.update(_engine(progress, repeats))
        if "concurrency" in chosen:
            results.update(_concurrency(progress))
        for name in ("store", "graph", "writes", "e2e"):
            if name in chosen:
                results.update(_adapter_section(name, progress))
    text = json.dumps(results, indent=2, sort_keys=True)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        click.echo(text)
    else:
        for key, value in sorted(results.items()):
            shown = f"{value:.3f}" if isinstance(value, float) else value
            click.echo(f"{key:40} {shown}")


def _engine(progress: Any, repeats: int) -> dict[str, Any]:
    from appliance.wiring.components import build_local_orchestrator
    from appliance.wiring.dev_world import bench_section

    benchmark = bench_section("engine")
    progress("loading the model and evaluating the system prefix")
    orchestrator = build_local_orchestrator(load_settings())
    try:
        return {**benchmark.machine(), **benchmark.run(orchestrator, progress, repeats=repeats)}
    finally:
        orchestrator.close()


def _concurrency(progress: Any) -> dict[str, Any]:
    from appliance.wiring.components import build_local_orchestrator
    from appliance.wiring.dev_world import bench_section

    harness = bench_section("concurrency")
    progress("loading the model with one sequence per concurrent conversation")
    orchestrator = build_local_orchestrator(load_settings(), batch_size=max(harness.LEVELS))
    try:
        return {**bench_section("engine").machine(), **harness.run(orchestrator, progress)}
    finally:
        orchestrator.close()


def _adapter_section(name: str, progress: Any) -> dict[str, Any]:
    # The harnesses live in the dev world (the graph and e2e sections need the dev tenant).
    from appliance.wiring.dev_world import bench_section

    module = bench_section(name)
    progress(f"{name} section")
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
        result: dict[str, Any] = module.run(Path(workdir))
    return result
