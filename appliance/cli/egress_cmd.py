"""`appliance egress list | policy`: the egress allowlist, and the same list as network policy."""

from __future__ import annotations

import os
from pathlib import Path

import click

from appliance.config import Settings, load_settings

FORMAT_HELP = (
    "k8s: Kubernetes NetworkPolicy (default-deny, bot port in, DNS and the allowlist's ports out); "
    "cilium: CiliumNetworkPolicy with toFQDNs (names, not just ports); "
    "iptables: an ipset + iptables script for a plain container host."
)


def _settings(defaults: bool) -> Settings:
    from appliance.config import appliance_home

    return Settings(home=appliance_home()) if defaults else load_settings()


@click.group()
def egress() -> None:
    """The egress allowlist: Entra login, Graph, Bot Framework's token keys, the Teams service URLs, and
    `[egress] allow` (plus the LLM endpoint in BYO mode). The appliance refuses every other destination
    in-process; `egress policy` renders the same list for the network layer below it."""


@egress.command(name="list")
@click.option("--defaults", is_flag=True, help="The default configuration's list (ignore appliance.toml).")
def list_(defaults: bool) -> None:
    """Print every allowed destination, one `https://host[:port]` a line."""
    from appliance.wiring.components import egress_destinations

    for entry in egress_destinations(_settings(defaults)):
        click.echo(entry)


@egress.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["k8s", "cilium", "iptables"]),
    default="k8s",
    show_default=True,
    help=FORMAT_HELP,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of stdout.")
@click.option(
    "--defaults", is_flag=True, help="Render the default configuration (ignore appliance.toml): what deploy/ ships."
)
def policy(fmt: str, out: Path | None, defaults: bool) -> None:
    """Render the configured egress allowlist as network policy.

    A vanilla NetworkPolicy cannot name hosts, so `k8s` narrows egress to DNS and the allowlist's ports on
    public addresses; pair it with `cilium` (FQDN rules) where the cluster runs Cilium, or use `iptables`
    on a plain container host. The files in deploy/ are this command's output with --defaults; regenerate
    them after changing the defaults:

    \b
        appliance egress policy --defaults --format k8s --out deploy/kubernetes/networkpolicy.yaml
        appliance egress policy --defaults --format cilium --out deploy/kubernetes/cilium/egress-fqdn.yaml
        appliance egress policy --defaults --format iptables --out deploy/host/egress-iptables.sh
    """
    from appliance.egress.policy import render
    from appliance.wiring.components import egress_destinations

    text = render(egress_destinations(_settings(defaults)), fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    if fmt == "iptables":
        os.chmod(out, 0o755)
    click.echo(f"wrote {out}")
