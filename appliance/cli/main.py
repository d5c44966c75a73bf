"""`appliance`: the operator's command line. One command per module in this folder, loaded lazily
(so `appliance --help` does not load llama.cpp or the Graph SDK)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from appliance.errors import ApplianceError

# command name -> "module:attribute" (each a click command or group)
COMMANDS: dict[str, str] = {
    "catalog": "appliance.cli.catalog_cmd:catalog",
    "grammar": "appliance.cli.grammar_cmd:grammar",
    "models": "appliance.cli.models_cmd:models",
    "propose": "appliance.cli.propose_cmd:propose",
    "bench": "appliance.cli.bench_cmd:bench",
    "init": "appliance.cli.init_cmd:init",
    "store": "appliance.cli.store_cmd:store",
    "retention": "appliance.cli.retention_cmd:retention",
    "export": "appliance.cli.export_cmd:export",
    "devtenant": "appliance.cli.devtenant_cmd:devtenant",
    "permissions": "appliance.cli.permissions_cmd:permissions",
    "egress": "appliance.cli.egress_cmd:egress",
    "doctor": "appliance.cli.doctor_cmd:doctor",
    "demo": "appliance.cli.demo_cmd:demo",
    "serve": "appliance.cli.serve_cmd:serve",
    "offboard": "appliance.cli.offboard_cmd:offboard",
    "audit": "appliance.cli.audit_cmd:audit",
    "chat": "appliance.cli.chat_cmd:chat",
    "teams": "appliance.cli.teams_cmd:teams",
    "backup": "appliance.cli.backup_cmd:backup",
    "restore": "appliance.cli.backup_cmd:restore",
    "release": "appliance.cli.release_cmd:release",
    "mcp": "appliance.cli.mcp_cmd:mcp",
}


DEV_COMMANDS = frozenset({"devtenant", "demo", "chat", "bench"})
"""Commands that need the dev world (installed from ./dev in development, never in the production image)."""


def _available() -> dict[str, str]:
    from appliance.wiring.dev import dev_world_installed

    with_dev = dev_world_installed()
    found = {}
    for name, target in COMMANDS.items():
        module = target.split(":")[0]
        if (with_dev or name not in DEV_COMMANDS) and importlib.util.find_spec(module) is not None:
            found[name] = target
    return found


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_available())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _available().get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


class ApplianceCLI(LazyGroup):
    """Turns ApplianceError into a two-line message (what happened, what to do) and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApplianceError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(f"what to do: {exc.hint}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=ApplianceCLI)
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of short errors.")
@click.version_option(package_name="aidizen-appliance")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """The aidizen appliance: a per-tenant M365 admin Aid.

    People DM the Aid in Teams; a local model constrained by the tool catalog proposes one tool call;
    state changes wait for the requester's confirmation; the Aid calls Graph as itself and writes a
    hash-chained audit record. All state lives under $APPLIANCE_HOME (default ./var).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
