"""`appliance doctor`: check that this appliance can run, and say what to fix."""

from __future__ import annotations

from collections.abc import Callable

import click

from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError

Check = Callable[[Settings], str]


def check_model(settings: Settings) -> str:
    """The configured model file matches its pinned sha256."""
    from appliance.engine.manifest import model_entry, verify_model

    entry = model_entry(settings.engine.model)
    verify_model(entry, settings.models_dir)
    return f"{entry.name}: sha256 matches the manifest"


def check_store(settings: Settings) -> str:
    """The store opens with its key, is encrypted, and its audit chain is intact."""
    from appliance.store import TenantStore

    with TenantStore.open(settings) as store:
        counts = store.row_counts()
    return f"encrypted store opens with its key ({sum(counts.values())} rows)"


def check_identity(settings: Settings) -> str:
    """The Aid holds a valid token, and its scopes match what the enabled tools need."""
    from appliance.graph.connect import connect
    from appliance.graph.scopes import compare_scopes
    from appliance.store import TenantStore
    from appliance.wiring import enabled_catalog, graph_endpoints, graph_permissions

    with TenantStore.open(settings) as store:
        identity, _ = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
        granted = identity.granted_scopes()
    report = compare_scopes(enabled_catalog(settings), granted)
    problems = report.lines()
    if report.missing:
        raise ApplianceError("; ".join(problems), hint="Grant the missing scopes to the admin app registration.")
    return "token valid; scopes match the enabled tools" + (f" (warning: {problems[0]})" if problems else "")


def check_egress(settings: Settings) -> str:
    """The egress allowlist: what the appliance may reach, and whether that is the dev tenant."""
    from appliance.wiring import graph_endpoints

    endpoints = graph_endpoints(settings)
    where = "the dev tenant (hosts mapped locally)" if endpoints.host_map else "Microsoft (real tenant)"
    return f"allowlist {endpoints.allowlist!r}; Entra and Graph are {where}"


CHECKS: tuple[tuple[str, Check], ...] = (
    ("model", check_model),
    ("store", check_store),
    ("egress", check_egress),
    ("identity", check_identity),
)


@click.command()
def doctor() -> None:
    """Check the model hash, the store key and encryption, the egress allowlist, the Aid's token and
    its scopes (granted vs needed), and whether this is the dev tenant. Exit 1 if any check fails."""
    failed = 0
    settings = load_settings()
    for name, check in CHECKS:
        try:
            click.echo(f"ok    {name:9} {check(settings)}")
        except ApplianceError as exc:
            failed += 1
            click.secho(f"FAIL  {name:9} {exc.message}", fg="red")
            if exc.hint:
                click.echo(f"      {'':9} what to do: {exc.hint}")
        except Exception as exc:  # a doctor reports every failure; it never stops at the first
            failed += 1
            click.secho(f"FAIL  {name:9} {type(exc).__name__}: {exc}", fg="red")
    if failed:
        raise SystemExit(1)
