"""`appliance doctor`: check that this appliance can run, and say what to fix."""

from __future__ import annotations

from collections.abc import Callable

import click

from appliance.cli.doctor_checks import check_bot, check_llm, check_requesters, check_roles, check_tls
from appliance.cli.doctor_sign_in import refusal_explained
from appliance.config import Settings, load_settings
from appliance.errors import ApplianceError

Check = Callable[[Settings], str]


def check_catalog(settings: Settings) -> str:
    """Every enabled tool has what serves it (an executor, a worked example): serve's own start-up check."""
    from appliance.wiring.catalog_check import check_catalog as check
    from appliance.wiring.components import enabled_catalog

    catalog = enabled_catalog(settings)
    check(catalog)
    return f"{len(catalog)} enabled tools, each with an executor and a worked example"


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
    from appliance.graph.scopes import admin_consent_url, compare_scopes
    from appliance.store import TenantStore
    from appliance.wiring.components import enabled_catalog, graph_endpoints, graph_permissions

    endpoints = graph_endpoints(settings)
    with TenantStore.open(settings) as store, refusal_explained(store):
        identity, _ = connect(endpoints, graph_permissions(settings), store.token_cache)
        consented = identity.consented_scopes()
    report = compare_scopes(enabled_catalog(settings), consented, strict=settings.graph.strict_scopes,
                            consent_url=admin_consent_url(endpoints.authority_host, endpoints.tenant,
                                                          endpoints.client_id),
                            accept_supersets=settings.graph.accept_supersets)
    problems = report.lines()
    return "token valid; consent matches the enabled tools" + (f" (warning: {problems[0]})" if problems else "")


def check_egress(settings: Settings) -> str:
    """The full egress allowlist, whether Microsoft's hosts are mapped to the dev tenant, and that every
    entry is a clean https origin (plain http only for a local-server LLM, which config validated)."""
    from appliance.egress.allowlist import entry_problem, redacted
    from appliance.engine.byo import llm_destinations
    from appliance.wiring.components import egress_destinations
    from appliance.wiring.dev import dev_host_map

    entries = egress_destinations(settings)
    in_tenant_llm = set(llm_destinations(settings)) if settings.llm.mode == "local-server" else set()
    problems = []
    for entry in entries:
        problem = entry_problem(entry)
        if problem and not (problem == "is not https" and entry in in_tenant_llm):
            problems.append(f"{_egress_source(settings, entry)} entry {redacted(entry)!r} {problem}")
    if problems:
        raise ApplianceError(
            "; ".join(problems),
            hint="Write each entry as https://host[:port] (origin only: no path, query or credentials; IDNs in "
            'their xn-- form). Plain http is accepted only for llm.mode = "local-server" on a private address.',
        )
    host_map = dev_host_map(settings) if settings.graph.dev else {}
    if host_map:
        address = ", ".join(sorted({f"{host}:{port}" for host, port in host_map.values()}))
        where = f"Microsoft hosts are mapped to the dev tenant at {address} ({', '.join(sorted(host_map))})"
    else:
        where = "Microsoft hosts are the real ones (no dev tenant mapping)"
    indent = "\n" + " " * 16  # under the check's text in `doctor`'s output
    return f"{len(entries)} allowed destinations; {where}" + "".join(indent + entry for entry in entries)


def _egress_source(settings: Settings, entry: str) -> str:
    """The setting an allowlist entry comes from (for the error message)."""
    if entry in settings.egress.allow:
        return "[egress] allow"
    if entry in {url.rstrip("/") for url in settings.teams.service_urls}:
        return "[teams] service_urls"
    if entry == settings.graph.authority_host.rstrip("/"):
        return "[graph] authority_host"
    if settings.graph.graph_base_url.startswith(entry):
        return "[graph] graph_base_url"
    return "llm.endpoint" if settings.llm.byo else "the allowlist"


CHECKS: tuple[tuple[str, Check], ...] = (
    ("catalog", check_catalog),
    ("model", check_model),
    ("store", check_store),
    ("egress", check_egress),
    ("identity", check_identity),
    ("roles", check_roles),
    ("requesters", check_requesters),
    ("bot", check_bot),
    ("tls", check_tls),
    ("llm", check_llm),
)


@click.command()
def doctor() -> None:
    """Check the catalog (every enabled tool can be served), the model hash, the store key and encryption,
    the egress allowlist, the Aid's token and its scopes (granted vs needed), its Entra roles, the requester
    list, the bot's credential, TLS and the LLM, and whether this is the dev tenant. Exit 1 if any check fails."""
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
