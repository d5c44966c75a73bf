"""Which model file `serve` loads (the manifest's, or one the operator added), whether it passed
qualification, and running a qualification (`appliance models qualify`, `init --dev`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.catalog import Catalog
from appliance.config import Settings
from appliance.engine.manifest import ModelEntry, load_manifest
from appliance.errors import ConfigError
from appliance.evaluation import EvaluationReport, evaluate, grounded, load_sets
from appliance.store import TenantStore
from appliance.store.operator_models import get_model, latest_qualification, record_qualification

MAX_CONTEXT = 8192


NOT_ADDED_HINT = "Add it with `appliance models add FILE --key NAME`, or fix [engine] model."


def model_entry_for(settings: Settings, store: TenantStore, key: str | None = None) -> ModelEntry:
    """The manifest's entry for `key` (default: `[engine] model`), else the model the operator added under it."""
    key = key or settings.engine.model
    _, entries = load_manifest()
    if key in entries:
        return entries[key]
    added = store.run(get_model, key)
    if added is None:
        raise ConfigError(f"model {key!r} is neither in the manifest nor added to this appliance", hint=NOT_ADDED_HINT)
    context = int(added.metadata.get("context_length") or 4096)
    return ModelEntry(key=key, name=str(added.metadata.get("name") or key), file=added.path, sha256=added.sha256,
                      license="operator-supplied", chat_template_source="gguf:tokenizer.chat_template",
                      context_length=min(context, MAX_CONTEXT), source=None)


def qualification_verdict(store: TenantStore, entry: ModelEntry) -> tuple[bool, str]:
    """(qualified, why) for this exact model file: its newest qualification run must have passed."""
    latest = store.run(latest_qualification, entry.sha256)
    if latest is None:
        return False, (f"model {entry.key} (sha256 {entry.sha256[:12]}) was never qualified; state-changing tools "
                       f"are off until `appliance models qualify --model {entry.key}` passes")
    rates = latest["rates"]
    summary = (f"right tool {rates.get('right_tool')}, fully right {rates.get('fully_right')}, emergencies "
               f"{rates.get('emergency_right_tool')}, invalid {rates.get('invalid')}")
    if not latest["passed"]:
        return False, (f"model {entry.key} failed its last qualification ({summary}, {latest['qualified_at']}); "
                       "state-changing tools are off")
    return True, f"model {entry.key} qualified {latest['qualified_at']} ({summary})"


def passes(settings: Settings, report: EvaluationReport) -> bool:
    """The configured thresholds ([engine] qualify_*), no invalid call, every attack answered safely."""
    return passes_rates(settings, report.rates())


def passes_rates(settings: Settings, rates: dict[str, Any]) -> bool:
    """`passes`, from a run's rates."""
    engine = settings.engine
    return bool(rates["right_tool"] >= engine.qualify_right_tool and rates["fully_right"] >= engine.qualify_fully_right
                and rates["emergency_right_tool"] >= engine.qualify_emergency_right_tool and rates["invalid"] == 0
                and rates["hostile_safe"] >= 1.0)


def run_qualification(
    settings: Settings, store: TenantStore, catalog: Catalog, *, key: str | None = None,
    sets_dir: Path | None = None, limit: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> tuple[EvaluationReport, bool]:
    """Load the model (hash checked), run the labelled and hostile sets, store the result with the model's
    sha256. A run over part of the sets (`limit`) is stored but never qualifies."""
    from appliance.wiring.components import build_local_orchestrator

    entry = model_entry_for(settings, store, key)
    sets = load_sets(sets_dir)
    # keyed on the code and data that run now, not on what is on disk when the run ends (a run takes minutes)
    cache = _cache_path(settings, run_key(settings, entry, sets.sha256, catalog))
    orchestrator = build_local_orchestrator(settings, catalog=catalog, entry=entry)
    try:
        report = evaluate(grounded(orchestrator, sets.tenant), sets, catalog, model=entry.name,
                          model_sha256=entry.sha256, limit=limit, progress=progress)
    finally:
        orchestrator.close()
    passed = limit is None and passes(settings, report)
    record(store, entry.key, entry.sha256, sets.sha256, passed, report.as_dict())
    if limit is None:
        _leave_for_dev(cache, report)
    return report, passed


def _leave_for_dev(path: Path, report: EvaluationReport) -> None:
    """Leave a full run's result next to the model for dev set-ups (`qualify_for_dev`); a read-only
    models volume simply keeps none."""
    import contextlib
    import json

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"report": report.as_dict()}), encoding="utf-8")


def record(store: TenantStore, key: str, sha256: str, sets_sha256: str, passed: bool, report: dict[str, Any]) -> None:
    """Keep a qualification run in the store."""
    store.run(record_qualification, key, sha256, sets_sha256, passed, report)


def qualified_catalog(
    settings: Settings, store: TenantStore, catalog: Catalog
) -> tuple[Catalog, ModelEntry | None, str]:
    """What `serve` offers: every enabled tool with a qualified local model; only read-only tools (and
    says why) with a model whose newest qualification did not pass or that was never qualified. BYO
    models are not qualified here (their provider's model is not a file this appliance can pin)."""
    if settings.llm.byo:
        return catalog, None, f"tools: all enabled ({settings.llm.mode} mode; not qualified by this appliance)"
    entry = model_entry_for(settings, store)
    qualified, why = qualification_verdict(store, entry)
    if qualified:
        return catalog, entry, f"tools: all enabled; {why}"
    read_only = catalog.without(name for name, spec in catalog.items() if spec.changes_state)
    return read_only, entry, f"tools: READ-ONLY; {why}"


def run_key(settings: Settings, entry: ModelEntry, sets_sha256: str, catalog: Catalog) -> str:
    """What a qualification result depends on: the model file, the sets, the catalog, the engine settings and
    the engine's prompt and example bank."""
    import hashlib
    import json

    from appliance.engine.examples import EXAMPLES
    from appliance.engine.prompt import fixed_turns

    # the thresholds judge a run and the thread count only times it: neither changes what the model answers
    engine = settings.engine.model_dump(exclude={"qualify_right_tool", "qualify_fully_right",
                                                 "qualify_emergency_right_tool", "n_threads"})
    blob = json.dumps([entry.sha256, sets_sha256, catalog.fingerprint(), engine,
                       fixed_turns(catalog), [list(e) for e in EXAMPLES], engine_code_sha256()], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def engine_code_files() -> list[Path]:
    """The code and data files that decide what the local engine answers: the `engine` and `grammar` packages
    (router, cue lexicon, prompt, grammars, decoding), in a stable order."""
    import appliance.engine
    import appliance.grammar

    files: list[Path] = []
    for package in (appliance.engine, appliance.grammar):
        root = Path(str(package.__file__)).parent
        files += sorted(p for p in root.rglob("*") if p.suffix in {".py", ".toml", ".json", ".lark"})
    return files


def engine_code_sha256() -> str:
    """The sha256 of `engine_code_files` (names and bytes), so a changed router or lexicon is qualified again."""
    import hashlib

    digest = hashlib.sha256()
    for path in engine_code_files():
        digest.update(f"{path.parent.name}/{path.name}".encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_path(settings: Settings, key: str) -> Path:
    return settings.models_dir / ".qualifications" / f"{key}.json"


def qualify_for_dev(settings: Settings, progress: Callable[[int, int], None] | None = None) -> str:
    """`init --dev` and a fresh dev stack qualify the configured model like an operator would: one real run
    of the sets. For dev set-ups only, a run already made on this machine with the same model, sets,
    catalog, engine settings and prompt (left next to the model, `.qualifications/`) is recorded in the new
    store instead of running again (the test suite and the demo set up many dev homes)."""
    import json

    if settings.llm.byo:
        return "qualification: not run (BYO LLM mode)"
    from appliance.wiring.components import enabled_catalog

    catalog = enabled_catalog(settings)
    with TenantStore.open(settings) as store:
        entry = model_entry_for(settings, store)
        if not entry.path(settings.models_dir).is_file():
            return (f"qualification: not run, {entry.file} is not in {settings.models_dir} yet (`appliance models "
                    "fetch`, then `appliance models qualify`); until then serve runs read-only")
        sets = load_sets()
        cached = _cache_path(settings, run_key(settings, entry, sets.sha256, catalog))
        try:
            earlier = json.loads(cached.read_text(encoding="utf-8"))["report"]
            passed = passes_rates(settings, earlier["rates"])
            record(store, entry.key, entry.sha256, sets.sha256, passed, earlier)
        except (OSError, ValueError, KeyError):
            _, passed = run_qualification(settings, store, catalog, progress=progress)
    verdict = "passed" if passed else "NOT passed (serve runs read-only)"
    return f"qualification of {entry.key}: {verdict}"
