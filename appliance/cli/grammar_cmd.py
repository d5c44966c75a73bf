"""`appliance grammar build|check`: the generated grammar artifacts in grammars/."""

from __future__ import annotations

from pathlib import Path

import click

GRAMMARS_DIR = Path(__file__).resolve().parents[2] / "grammars"


@click.group()
def grammar() -> None:
    """The catalog's grammar as JSON schema, Lark (llguidance) and GBNF (reference)."""


@grammar.command()
@click.option("--out", type=click.Path(path_type=Path), default=GRAMMARS_DIR, show_default=True)
def build(out: Path) -> None:
    """Regenerate the artifacts from the full catalog."""
    from appliance.catalog import DEFAULT_CATALOG
    from appliance.grammar.artifacts import write_artifacts

    for path in write_artifacts(DEFAULT_CATALOG, out):
        click.echo(f"wrote {path}")


@grammar.command()
def check() -> None:
    """Exit 1 if grammars/ differs from what the catalog generates (drift)."""
    from appliance.catalog import DEFAULT_CATALOG
    from appliance.grammar.artifacts import render_artifacts

    stale = [
        name
        for name, text in render_artifacts(DEFAULT_CATALOG).items()
        if not (GRAMMARS_DIR / name).is_file() or (GRAMMARS_DIR / name).read_text(encoding="utf-8") != text
    ]
    if stale:
        click.secho(f"stale: {', '.join(stale)}; run `appliance grammar build`", fg="red")
        raise SystemExit(1)
    click.echo("grammars/ matches the catalog")
