"""The bot's certificate credential: a PEM private key and its X.509 certificate, sealed in the store.

Entra accepts a certificate wherever a client secret is accepted: the app signs a short JWT (the client
assertion) with the certificate's private key and Entra checks it against the certificate uploaded to the
app registration (MicrosoftDocs/entra-docs, docs/identity-platform/certificate-credentials.md: header
`alg` PS256 and `x5t#S256`, the base64url SHA-256 thumbprint of the certificate's DER; claims `aud` the
tenant's v2.0 token endpoint, `iss` = `sub` = the client id, `exp`, `nbf`, `jti`).

msal builds that assertion itself. Its documented form (msal-python, `ClientApplication`'s
`client_credential`, https://msal-python.readthedocs.io/en/latest/#msal.ClientApplication.params.client_credential):
`{"private_key": PEM, "public_certificate": PEM}`; since msal 1.35 (pinned: 1.39), with no `thumbprint`
given and a `public_certificate` present, msal computes the SHA-256 thumbprint and signs PS256 with
`x5t#S256`. The SHA-1 `thumbprint` form is deprecated there, so it is not used.

The PEM (key and certificate) is kept only in the store, AES-GCM sealed inside the encrypted database
(like the client secret); after `appliance teams certificate import` no plain-text copy is needed on disk.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from appliance.errors import ApplianceError

BOT_CERTIFICATE = "teams.app_certificate"  # the store secret holding the PEM (private key + certificate)
MIN_RSA_BITS = 2048


class BotCertificateError(ApplianceError):
    """A PEM that cannot serve as the bot's certificate credential."""

    hint = ("Give one PEM file holding the RSA private key and its certificate, e.g. "
            "`cat bot.key bot.crt > bot.pem` (`openssl pkcs12 -in bot.pfx -nodes -out bot.pem` for a .pfx).")


class SecretReader(Protocol):
    """Where the bot's credentials are sealed (the tenant store)."""

    def get_secret(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class BotCertificate:
    """A parsed certificate credential: the unencrypted key and certificate PEMs, and what identifies it."""

    private_key_pem: str
    certificate_pem: str
    not_after: datetime
    subject: str

    @property
    def sha256_thumbprint(self) -> str:
        """The base64url SHA-256 thumbprint of the certificate's DER (the assertion's `x5t#S256`)."""
        return x5t_s256(self.certificate_pem.encode())

    @property
    def sha1_thumbprint_hex(self) -> str:
        """The SHA-1 thumbprint in hex, as the Entra admin center and `az ad app credential list` show it."""
        der = x509.load_pem_x509_certificate(self.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
        return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()

    def sealed_form(self) -> str:
        """What goes into the store: the key then the certificate, one PEM text."""
        return self.private_key_pem + self.certificate_pem

    def msal_credential(self) -> dict[str, str]:
        """msal's documented certificate form (SHA-256 thumbprint, PS256; see the module docstring)."""
        return {"private_key": self.private_key_pem, "public_certificate": self.certificate_pem}


def x5t_s256(certificate_pem: bytes) -> str:
    """The base64url (unpadded) SHA-256 thumbprint of a PEM certificate's DER encoding."""
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def parse_bot_certificate(pem: bytes, passphrase: bytes | None = None) -> BotCertificate:
    """Read an RSA private key and the certificate of its public key from one PEM text.

    The key is re-encoded unencrypted (PKCS#8): it is sealed in the encrypted store, never written out.
    Raises BotCertificateError naming what is wrong (no key, no certificate, a key of another certificate).
    """
    if b"PRIVATE KEY-----" not in pem:
        raise BotCertificateError("the PEM holds no private key (-----BEGIN PRIVATE KEY-----)")
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
        if passphrase is None:
            raise BotCertificateError("the private key is encrypted and no passphrase was given",
                                      hint="Pass the key's passphrase with --passphrase-env VAR.") from None
        raise BotCertificateError("a passphrase was given but the private key is not encrypted",
                                  hint="Drop --passphrase-env.") from None
    except ValueError:
        raise BotCertificateError("the private key could not be read (wrong passphrase or not a PEM key)") from None
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise BotCertificateError("the PEM holds no certificate (-----BEGIN CERTIFICATE-----)") from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise BotCertificateError(f"the private key must be RSA of at least {MIN_RSA_BITS} bits (PS256 assertions)",
                                  hint="Create one with `openssl req -x509 -newkey rsa:2048 ...` (docs/DEPLOY.md).")
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    matching = [cert for cert in certificates if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public]
    if not matching:
        raise BotCertificateError("no certificate in the PEM belongs to its private key")
    certificate = matching[0]
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return BotCertificate(private_key_pem=key_pem,
                          certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                          not_after=certificate.not_valid_after_utc, subject=certificate.subject.rfc4514_string())


def stored_bot_certificate(store: SecretReader) -> BotCertificate | None:
    """The certificate credential sealed in the store, or None if only a client secret (or nothing) is."""
    sealed = store.get_secret(BOT_CERTIFICATE)
    return parse_bot_certificate(sealed.encode()) if sealed else None


def bot_credential(store: SecretReader, secret_name: str) -> str | dict[str, str] | None:
    """What msal authenticates the bot with: the certificate when one is stored (it wins over a secret
    kept for the rotation), else the client secret named `secret_name`, else None."""
    certificate = stored_bot_certificate(store)
    if certificate is not None:
        return certificate.msal_credential()
    return store.get_secret(secret_name) or None
