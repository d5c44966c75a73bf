"""`appliance init`: create the store key (0600, outside the data dir) and the encrypted, migrated store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from appliance.config import Settings, load_settings
from appliance.store.setup import initialize_store


def configure_dev(settings: Settings) -> list[str]:
    """Point the configuration at the dev tenant, sign the Aid in there and register the bot."""
    from appliance.wiring.dev import prepare_dev

    steps: list[str] = []
    try:
        steps += prepare_dev(settings, lambda message: steps.append(f"sign-in: {message}"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return steps


def qualify_dev(settings: Settings) -> str:
    """Qualify the configured model on this machine (`appliance models qualify`), so `serve --dev` offers
    state changes because the model passed, not by exemption."""
    from appliance.wiring.models import qualify_for_dev

    click.echo("qualifying the model on the labelled and hostile sets (a few minutes on a CPU) ...", err=True)
    return qualify_for_dev(load_settings(), lambda done, total: click.echo(f"\r{done}/{total}", nl=False, err=True))


def sign_in(settings: Settings, *, browser: bool = False, port: int = 0, open_browser: bool = True) -> list[str]:
    """Sign the Aid in to the configured tenant (device code, or with `browser` authorization code + PKCE
    redirected to localhost); the token cache goes into the store."""
    from appliance.graph.connect import connect
    from appliance.graph.sign_in_policy import BROWSER, DEVICE_CODE, SIGN_IN_FLOW_SETTING
    from appliance.store import TenantStore, key_value_settings
    from appliance.wiring.components import graph_endpoints, graph_permissions

    flow = BROWSER if browser else DEVICE_CODE
    with TenantStore.open(settings) as store:
        identity, _ = connect(graph_endpoints(settings), graph_permissions(settings), store.token_cache)
        with _policy_named(flow):
            if browser:
                upn = identity.sign_in_with_browser(lambda url: _open(url, open_browser), port=port)
            else:
                upn = identity.sign_in_with_device_code(lambda message: click.echo(message))
        store.run(key_value_settings.set_setting, SIGN_IN_FLOW_SETTING, flow)  # `doctor` reads it on a refusal
    return [f"the Aid is signed in as {upn} ({flow}); its token cache is sealed in the store"]


@contextlib.contextmanager
def _policy_named(flow: str) -> Iterator[None]:
    """Re-raise a refused sign-in naming the tenant policy and the flow it blocked, when it was a policy."""
    from appliance.graph.errors import GraphAuthError
    from appliance.graph.sign_in_policy import DEVICE_CODE, explain_policy_block

    try:
        yield
    except GraphAuthError as exc:
        block = explain_policy_block(exc.message, flow)
        if block is not None:
            raise GraphAuthError(f"the {flow} sign-in failed: {block.message} (AADSTS{block.code})",
                                 hint=block.hint) from exc
        if flow == DEVICE_CODE:
            raise GraphAuthError(f"the device-code sign-in failed: {exc.message}",
                                 hint="If your tenant's Conditional Access blocks the device-code flow, run "
                                 "`appliance init --sign-in --browser`.") from exc
        raise


def _open(url: str, open_browser: bool) -> None:
    click.echo("Sign in AS THE AID at this URL (it redirects back to this machine's localhost):")
    click.echo(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)


SIGN_IN_HELP = (
    "Also sign the Aid in to your tenant ([graph] tenant_id, client_id) by device code: an admin opens the "
    "printed URL, signs in AS THE AID and consents to the scopes `appliance permissions` lists."
)


@click.command()
@click.option("--dev", is_flag=True, help="Also configure the embedded dev tenant and sign the Aid in to it.")
@click.option("--sign-in", "sign_in_now", is_flag=True, help=SIGN_IN_HELP)
@click.option("--browser", is_flag=True, help="With --sign-in: authorization code + PKCE in a browser (redirect to "
              "http://localhost), for tenants whose Conditional Access blocks the device-code flow.")
@click.option("--redirect-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="With --browser: the localhost port to listen on (0: any free port).")
@click.option("--no-open", is_flag=True, help="With --browser: only print the URL (e.g. in a pod).")
def init(dev: bool, sign_in_now: bool, browser: bool, redirect_port: int, no_open: bool) -> None:
    """Set up this appliance's state: the store key and the encrypted store under $APPLIANCE_HOME.

    With --dev, also point Entra, Graph and Teams at the embedded dev tenant, sign the Aid in there and
    register the bot, so that `appliance serve --dev` needs nothing else. Safe to run again.
    """
    settings = load_settings()
    if dev and sign_in_now:
        raise click.UsageError("--dev signs the Aid in to the dev tenant already; drop --sign-in")
    if browser and not sign_in_now:
        raise click.UsageError("--browser goes with --sign-in")
    steps = initialize_store(settings)
    if dev:
        steps += configure_dev(settings)
        steps.append(qualify_dev(settings))
    if sign_in_now:
        steps += sign_in(settings, browser=browser, port=redirect_port, open_browser=not no_open)
    for step in steps:
        click.echo(step)
