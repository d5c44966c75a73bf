"""`appliance teams certificate import|show|remove`: the bot's certificate credential, sealed in the store."""

from __future__ import annotations

import os
from typing import BinaryIO

import click

from appliance.config import load_settings
from appliance.errors import ApplianceError


@click.group()
def certificate() -> None:
    """The bot's certificate credential (instead of, or while rotating away from, a client secret).

    Upload the certificate (public part, .cer/.pem) to the bot's app registration, then import the PEM
    holding the private key and that certificate here. The serve process then signs its token requests
    with the key (a PS256 client assertion); a certificate in the store wins over a client secret.
    """


@certificate.command("import")
@click.argument("pem", type=click.File("rb"))
@click.option("--passphrase-env", metavar="VAR", default=None,
              help="Name of an environment variable holding the passphrase of an encrypted private key.")
def import_certificate(pem: BinaryIO, passphrase_env: str | None) -> None:
    """Seal PEM (private key + certificate; `-` reads stdin) in the encrypted store; replaces any earlier one.

    The key is kept only inside the store (AES-GCM sealed in the SQLCipher database): delete the PEM file
    afterwards (`shred -u bot.pem`), or pipe it in so it never lands on disk:
    `openssl pkcs12 -in bot.pfx -nodes | appliance teams certificate import -`.
    """
    from appliance.graph.bot_certificate import BOT_CERTIFICATE, parse_bot_certificate
    from appliance.store import TenantStore

    passphrase = None
    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if not value:
            raise ApplianceError(f"the environment variable {passphrase_env} is not set",
                                 hint="Export the key's passphrase under that name, or drop --passphrase-env.")
        passphrase = value.encode()
    parsed = parse_bot_certificate(pem.read(), passphrase)
    with TenantStore.open(load_settings()) as store:
        replaced = bool(store.get_secret(BOT_CERTIFICATE))
        store.put_secret(BOT_CERTIFICATE, parsed.sealed_form())
    verb = "replaced the earlier certificate with" if replaced else "stored"
    click.echo(f"{verb} the bot's certificate {parsed.subject} (SHA-1 thumbprint {parsed.sha1_thumbprint_hex}, "
               f"valid until {parsed.not_after.date()}); its private key is AES-GCM sealed inside the encrypted "
               "store. Delete the PEM file now; restart `serve` to use it.")
    name = str(getattr(pem, "name", "<stdin>"))
    if name != "<stdin>":
        click.echo(f"remove the plain-text copy: shred -u {name}", err=True)


@certificate.command()
def show() -> None:
    """Print the stored certificate's subject, thumbprints and end date (never the key).

    Compare the SHA-1 thumbprint with `az ad app credential list --id <bot app id> --cert`.
    """
    from appliance.graph.bot_certificate import stored_bot_certificate
    from appliance.store import TenantStore

    with TenantStore.open(load_settings()) as store:
        stored = stored_bot_certificate(store)
    if stored is None:
        raise ApplianceError("no certificate of the bot is in the store",
                             hint="Import one: `appliance teams certificate import bot.pem`.")
    click.echo(f"subject:            {stored.subject}")
    click.echo(f"SHA-1 thumbprint:   {stored.sha1_thumbprint_hex}")
    click.echo(f"x5t#S256:           {stored.sha256_thumbprint}")
    click.echo(f"valid until:        {stored.not_after.isoformat()}")


@certificate.command()
def remove() -> None:
    """Delete the stored certificate (the bot falls back to its client secret, if one is stored)."""
    from appliance.graph.bot_certificate import BOT_CERTIFICATE
    from appliance.store import TenantStore

    with TenantStore.open(load_settings()) as store:
        removed = store.delete_secret(BOT_CERTIFICATE)
    click.echo("removed the bot's certificate from the store" if removed else "no certificate was stored")
