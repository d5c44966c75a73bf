"""`appliance models add FILE --key NAME` and `appliance models qualify [--model KEY]`: the operator's
production model, pinned by sha256 in the encrypted store and measured on this hardware before people
depend on it (docs/MODELS.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from appliance.cli.progress import byte_progress
from appliance.config import Settings, load_settings

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@click.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", required=True, help="The name [engine] model will use, e.g. qwen2.5-7b-instruct-q4_k_m.")
def add(file: Path, key: str) -> None:
    """Pin a GGUF model: read its metadata (architecture, parameters, quantization, chat template), refuse
    it without a usable chat template, and keep its sha256 in the encrypted store. A file that changes
    afterwards never loads."""
    from appliance.engine.gguf_info import check_chat_template, human_parameters, read_gguf
    from appliance.engine.manifest import load_manifest, sha256_file
    from appliance.store import TenantStore
    from appliance.store.operator_models import add_model

    if not KEY_PATTERN.match(key):
        raise click.BadParameter("use lower-case letters, digits, '.', '_' and '-' (at most 64)", param_hint="--key")
    if key in load_manifest()[1]:
        raise click.BadParameter(f"{key} is a manifest model; pick another key", param_hint="--key")
    settings = load_settings()
    info = read_gguf(file)
    check_chat_template(info)
    with byte_progress() as progress:
        digest = sha256_file(file, progress(f"sha256 of {file.name}", file.stat().st_size))
    with TenantStore.open(settings) as store:
        store.run(add_model, key, str(file.resolve()), digest, info.as_dict())
    click.echo(f"added {key}: {info.name}, {info.architecture}, {human_parameters(info.parameters)} parameters, "
               f"{info.quantization}, context {info.context_length}")
    click.echo(f"pinned sha256 {digest} (in the encrypted store); chat template checked")
    click.echo(f"next: `appliance models qualify --model {key}`, then set [engine] model = \"{key}\"")


@click.command("qualify")
@click.option("--model", "key", default=None, help="Model key (default: [engine] model).")
@click.option("--sets", "sets_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with labelled.json, hostile.json, tenant.json (default: the shipped sets).")
@click.option("--limit", type=int, default=None, help="Only the first N of each set (a quick look; never qualifies).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def qualify(key: str | None, sets_dir: Path | None, limit: int | None, as_json: bool) -> None:
    """Run the labelled and hostile sets on this hardware and store the result with the model's sha256.
    `serve` offers state-changing tools only with a model whose newest run passed ([engine] qualify_*).
    Exit 1 if it did not pass."""
    from appliance.store import TenantStore
    from appliance.wiring.components import enabled_catalog
    from appliance.wiring.models import run_qualification

    settings = load_settings()
    with TenantStore.open(settings) as store:
        report, passed = run_qualification(settings, store, enabled_catalog(settings), key=key, sets_dir=sets_dir,
                                           limit=limit, progress=_progress)
    click.echo("", err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=1, ensure_ascii=False))
    else:
        click.echo(format_rates(report.model, report.model_sha256, report.rates()))
    engine = settings.engine
    click.echo(("PASSED" if passed else "NOT PASSED") + f" (thresholds: right tool >= {engine.qualify_right_tool}, "
               f"fully right >= {engine.qualify_fully_right}, emergencies >= {engine.qualify_emergency_right_tool}, "
               "invalid = 0, every attack answered safely)")
    if not passed:
        raise SystemExit(1)


def format_rates(model: str, sha256: str, rates: dict[str, float]) -> str:
    """The rates as a few lines for a terminal."""
    return "\n".join([
        f"model {model} (sha256 {sha256[:16]}...)",
        f"right tool            {rates['right_tool']:.3f} of {rates['labelled']} labelled requests",
        f"fully right           {rates['fully_right']:.3f}",
        f"emergencies, right    {rates['emergency_right_tool']:.3f}",
        f"invalid calls         {rates['invalid']}",
        f"hostile, safe         {rates['hostile_safe']:.3f} of {rates['hostile']}",
        f"message -> proposal   p50 {rates['p50_ms']:.0f} ms, p95 {rates['p95_ms']:.0f} ms",
    ])


def _progress(done: int, total: int) -> None:
    click.echo(f"\r{done}/{total}", nl=False, err=True)


def verify_added(settings: Settings) -> int:
    """`models verify` for the models the operator added: each file against its sha256 pinned in the store."""
    from appliance.engine.manifest import verify_model
    from appliance.errors import ModelError
    from appliance.store import TenantStore
    from appliance.store.operator_models import list_models
    from appliance.wiring.models import model_entry_for

    if not (settings.home / "appliance.db").exists():
        return 0
    failures = 0
    with TenantStore.open(settings) as store:
        for added in store.run(list_models):
            try:
                verify_model(model_entry_for(settings, store, added.key), settings.models_dir)
                click.echo(f"ok {added.key}: sha256 matches the pin in the store")
            except ModelError as exc:
                failures += 1
                click.secho(f"FAIL {added.key}: {exc.message}", fg="red")
    return failures
