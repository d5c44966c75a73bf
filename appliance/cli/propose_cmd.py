"""`appliance propose MESSAGE`: what tool call would the model propose? Nothing is executed."""

from __future__ import annotations

import json
from typing import Literal

import click

from appliance.config import load_settings


@click.command()
@click.argument("message", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--backend", type=click.Choice(["llguidance", "outlines"]), default=None,
              help="Constraint backend (default: engine.backend from the config).")
def propose(message: tuple[str, ...], as_json: bool, backend: Literal["llguidance", "outlines"] | None) -> None:
    """Show the tool call the local model proposes for MESSAGE (read-only: nothing runs).

    Example: appliance propose "Give sarah.lin@contoso.com an E3 license"
    """
    from appliance.types import ContextMessage
    from appliance.wiring.components import build_local_orchestrator

    settings = load_settings()
    orchestrator = build_local_orchestrator(settings, backend=backend)
    text = " ".join(message)
    limit = settings.engine.max_message_chars
    if len(text) > limit:
        click.echo(f"note: the message has {len(text)} characters; the model sees the first {limit} "
                   "(engine.max_message_chars)", err=True)
    proposal = orchestrator.propose([ContextMessage(role="user", text=text[:limit])])
    spec = orchestrator.catalog[proposal.call.tool]
    if as_json:
        click.echo(json.dumps({
            "tool": proposal.call.tool,
            "arguments": proposal.call.arguments,
            "changes_state": spec.changes_state,
            "summary": spec.summary(proposal.call.arguments),
            "model": proposal.model,
            "model_sha256": proposal.model_sha256,
            "backend": proposal.backend,
            "prompt_tokens": proposal.prompt_tokens,
            "generated_tokens": proposal.generated_tokens,
            "forced_tokens": proposal.forced_tokens,
            "seconds": round(proposal.seconds, 4),
        }))
        return
    click.echo(proposal.call.canonical_json())
    needs = "needs confirmation" if spec.changes_state else "read-only, would run at once"
    click.echo(f"-> {spec.summary(proposal.call.arguments)}  ({needs})", err=True)
