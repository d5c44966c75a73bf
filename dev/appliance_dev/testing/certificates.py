"""Self-signed certificates for tests of the bot's certificate credential (what `openssl req -x509` makes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from appliance_dev.devtenant import DevTenant


@dataclass(frozen=True)
class TestCertificate:
    """A key and its self-signed certificate, as PEM texts."""

    __test__ = False  # not a pytest class

    key_pem: bytes
    cert_pem: bytes

    @property
    def pem(self) -> bytes:
        """Key and certificate in one PEM, as `cat bot.key bot.crt > bot.pem` makes it."""
        return self.key_pem + self.cert_pem

    def key(self) -> rsa.RSAPrivateKey:
        """The private key object."""
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key


def self_signed(*, days: float = 365, name: str = "aidizen-bot", key_size: int = 2048,
                not_before_days: float = 1) -> TestCertificate:
    """A fresh RSA key and a self-signed certificate valid from `not_before_days` ago for `days` from now
    (negative `days`: already expired)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=not_before_days + max(0.0, -days)))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return TestCertificate(key_pem, certificate.public_bytes(serialization.Encoding.PEM))


def use_bot_certificate_only(home: Path, tenant: DevTenant, certificate: TestCertificate) -> None:
    """Leave the dev bot (of the prepared `home`) nothing but `certificate` to authenticate with: upload it
    to the tenant's app registration, seal it in the store and delete the client secret there."""
    from appliance.config import load_settings
    from appliance.graph.bot_certificate import BOT_CERTIFICATE, parse_bot_certificate
    from appliance.store import TenantStore
    from appliance.wiring.dev import BOT_SECRET

    settings = load_settings(home)
    tenant.register_bot_certificate(settings.teams.app_id, certificate.cert_pem.decode())
    with TenantStore.open(settings) as store:
        store.put_secret(BOT_CERTIFICATE, parse_bot_certificate(certificate.pem).sealed_form())
        store.delete_secret(BOT_SECRET)
