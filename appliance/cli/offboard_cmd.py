"""`appliance offboard [verify]`: tear this tenant's appliance down, with a signed receipt; check a receipt."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from appliance.audit.receipt import (
    ReceiptError,
    Recorded,
    fingerprint,
    load_public_key,
    load_signing_key,
    new_signing_key,
    sign_receipt,
    verify_receipt,
)
from appliance.config import load_settings

PASSPHRASE_ENV = "APPLIANCE_RECEIPT_KEY_PASSPHRASE"
MARKS = {"done": "done", "already_done": "already done", "skipped": "skipped", "needs_admin": "ADMIN MUST ACT",
         "failed": "FAILED", "passed": "passed"}
EXIT_MEANING = {0: "every step done or already done", 1: "FAILED: at least one step or check failed (see above)",
                3: "done, but an admin must still act (see above)"}


@click.group(invoke_without_command=True)
@click.option("--yes", is_flag=True, help="Do not ask for the tenant id to be typed back (automation).")
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the signed receipt (a new file outside $APPLIANCE_HOME; mode 0600). "
    "Default: ./offboard-receipt-<tenant>-<UTC time>.json",
)
@click.option(
    "--signing-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=f"Your Ed25519 private key (PEM) to sign the receipt; encrypted keys read ${PASSPHRASE_ENV}. "
    "Default: a fresh key, its public key embedded in the receipt (proves integrity, not authorship).",
)
@click.option("--remove-models", is_flag=True, help="Also remove $APPLIANCE_HOME/models (not customer data).")
@click.pass_context
def offboard(ctx: click.Context, yes: bool, receipt_path: Path | None, signing_key: Path | None,
             remove_models: bool) -> None:
    """Tear this tenant's appliance down for good and write a signed receipt. Stop `appliance serve` first.

    \b
    In this order (each step is safe to repeat; a failed step is reported and the rest still runs):
      1. the Aid disables its own Entra user (PATCH accountEnabled=false) - as the Aid, while its token works
      2. the Aid revokes its own sign-in sessions (every refresh token stops working)
      3. the Aid's token cache and the bot's client secret and certificate are deleted from the store
      4. the store is crypto-shredded: its key (file) destroyed first, then appliance.db and its -wal/-shm
         files overwritten with random bytes and removed
      5. the rest of $APPLIANCE_HOME the appliance wrote is removed: logs/, cache/, appliance.toml, and
         devtenant/ in dev; models/ only with --remove-models
    Then it checks the Aid reads back disabled, its old refresh token is refused, and no store, key or other
    file is left; writes the receipt (steps, checks, times, signed with Ed25519) and prints a summary.

    \b
    To confirm, type back the tenant id: `[graph] tenant_id` from appliance.toml (in dev the dev tenant's
    domain, contoso.onmicrosoft.com); where no tenant is configured, the $APPLIANCE_HOME path.
    Nothing is changed if it does not match. Exit code: 0 all done, 1 a step or check failed,
    3 done but an admin must still act (e.g. disable the Aid in Entra). The Aid's user and the two app
    registrations stay in Entra: delete them there if you wish (docs/OFFBOARDING.md).
    """
    if ctx.invoked_subcommand is not None:
        return
    from appliance.wiring.offboard import OffboardError, plan_offboard, run_offboard, utc_now
    from appliance.wiring.offboard_local import ReceiptPathError, check_receipt_path, write_receipt

    settings = load_settings()
    plan = plan_offboard(settings, remove_models=remove_models)
    target = check_receipt_path(receipt_path or _default_receipt(plan.tenant or "unconfigured"), settings.home)
    key = load_signing_key(signing_key.read_bytes(), _passphrase()) if signing_key else new_signing_key()
    if signing_key is not None and settings.home.resolve() in signing_key.resolve().parents:
        raise ReceiptError(f"the signing key {signing_key} is inside $APPLIANCE_HOME", hint="Keep it outside.")
    click.echo(f"offboarding {plan.tenant or '(no tenant configured)'} - $APPLIANCE_HOME {settings.home}")
    click.echo("this destroys, in order (whatever of it is still there):")
    for line in plan.destroys():
        click.echo(f"  - {line}")
    if not yes:
        typed = click.prompt(f"type {plan.confirm_text} to confirm", default="", show_default=False)
        if not plan.matches(typed):
            raise OffboardError(f"you typed {typed.strip()!r}, not {plan.confirm_text!r}: aborted")
    click.echo(f"started {utc_now()}")
    result = run_offboard(plan, lambda kind, entry: _show(entry, check=kind == "check"))
    receipt = result.receipt()
    data = sign_receipt(receipt, key, origin="operator" if signing_key else "ephemeral")
    try:
        write_receipt(target, data)
    except ReceiptPathError:
        click.echo(data.decode())
        raise
    _summary(receipt, target, fingerprint(key.public_key()), bool(signing_key))
    ctx.exit(int(receipt["exit_code"]))


@offboard.command()
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The signer's Ed25519 public key (PEM) to check who signed it, not only that it is intact.",
)
def verify(receipt: Path, public_key: Path | None) -> None:
    """Check a receipt's signature (byte for byte) and print its steps and checks. Exit code 1 if it fails."""
    expected = load_public_key(public_key.read_bytes()) if public_key else None
    checked = verify_receipt(receipt.read_bytes(), public_key=expected)
    body = checked.receipt
    click.echo(f"signature valid: Ed25519, signer {checked.fingerprint} ({checked.origin} key)")
    if checked.signer_checked:
        click.echo("signer: matches the public key you gave")
    else:
        click.echo("signer: NOT checked - this proves the receipt is unchanged since signing, not who signed it "
                   "(pass --public-key, or compare the fingerprint with the one printed when it was made)")
    subject = body["subject"]
    click.echo(f"tenant {subject.get('tenant')} ({subject.get('tenant_guid')}), Aid {subject.get('aid_upn')}, "
               f"appliance {body['appliance_version']}, {body['started_at']} - {body['finished_at']}")
    for entry in body["steps"]:
        _line(entry, check=False)
    for entry in body["checks"]:
        _line(entry, check=True)
    click.echo(f"exit code recorded: {body['exit_code']} ({EXIT_MEANING.get(body['exit_code'], '?')})")


def _default_receipt(tenant: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path.cwd() / f"offboard-receipt-{re.sub(r'[^A-Za-z0-9.-]+', '_', tenant)}-{stamp}.json"


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None


def _show(entry: Recorded, *, check: bool) -> None:
    outcome = entry.outcome
    _line({"title": entry.title, "status": outcome.status, "detail": outcome.detail, "hint": outcome.hint}, check=check)


def _line(entry: dict[str, Any], *, check: bool) -> None:
    status = str(entry["status"])
    mark = ("check " if check else "") + MARKS.get(status, status)
    colour = "red" if status == "failed" else "yellow" if status == "needs_admin" else None
    click.secho(f"  [{mark}] {entry['title']}: {entry['detail']}", fg=colour)
    if entry.get("hint") and status in ("failed", "needs_admin", "skipped"):
        click.echo(f"      what to do: {entry['hint']}")


def _summary(receipt: dict[str, Any], target: Path, signer: str, operator_key: bool) -> None:
    code = int(receipt["exit_code"])
    entries = receipt["steps"] + receipt["checks"]
    todo = [e for e in entries if e["status"] in ("failed", "needs_admin") and e["hint"]]
    headline = EXIT_MEANING[code]
    if code == 0 and not any(s["status"] == "done" for s in receipt["steps"]):
        headline = "nothing was left to do (an earlier run already tore this appliance down)"
    click.echo(f"result: {headline} (exit code {code})")
    for entry in todo:
        click.echo(f"  - {entry['hint']}")
    click.echo(f"receipt: {target} (mode 0600)")
    kind = "your signing key" if operator_key else "a one-time key (embedded; proves integrity only)"
    click.echo(f"signed with {kind}: {signer}")
    click.echo(f"verify it with: appliance offboard verify {target}" + ("" if not operator_key else
               " --public-key YOUR_PUBLIC_KEY.pem"))
    click.echo("still yours to do: delete the Aid's user and the two app registrations in Entra if you wish.")
