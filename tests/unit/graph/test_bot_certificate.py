"""The bot's certificate credential: what a PEM must hold, what is sealed, and msal's documented form."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from appliance.graph.bot_certificate import (
    BOT_CERTIFICATE,
    BotCertificateError,
    bot_credential,
    parse_bot_certificate,
    stored_bot_certificate,
)
from appliance_dev.testing.certificates import TestCertificate, self_signed

BOT_SECRET = "teams.app_secret"


@pytest.fixture(scope="module")
def cert() -> TestCertificate:
    return self_signed(days=90)


class Secrets(dict[str, str]):
    def get_secret(self, name: str) -> str | None:
        return self.get(name)


def test_a_key_and_its_certificate_parse_in_either_order(cert: TestCertificate) -> None:
    parsed = parse_bot_certificate(cert.pem)
    assert parse_bot_certificate(cert.cert_pem + cert.key_pem) == parsed
    der = x509.load_pem_x509_certificate(cert.cert_pem).public_bytes(serialization.Encoding.DER)
    assert parsed.sha256_thumbprint == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    assert parsed.sha1_thumbprint_hex == hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    assert parsed.subject == "CN=aidizen-bot"
    assert parsed.not_after == x509.load_pem_x509_certificate(cert.cert_pem).not_valid_after_utc


def test_msal_gets_its_sha256_form_key_and_certificate_without_a_sha1_thumbprint(cert: TestCertificate) -> None:
    """msal-python `client_credential`: with `public_certificate` and no `thumbprint`, msal >= 1.35 signs PS256
    with x5t#S256; a `thumbprint` would be read as the deprecated SHA-1 form."""
    credential = parse_bot_certificate(cert.pem).msal_credential()
    assert set(credential) == {"private_key", "public_certificate"}
    assert credential["public_certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_an_encrypted_key_needs_its_passphrase_and_is_sealed_unencrypted(cert: TestCertificate) -> None:
    encrypted = cert.key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"pass phrase"))
    with pytest.raises(BotCertificateError, match="passphrase"):
        parse_bot_certificate(encrypted + cert.cert_pem)
    with pytest.raises(BotCertificateError, match="wrong passphrase"):
        parse_bot_certificate(encrypted + cert.cert_pem, b"not it")
    parsed = parse_bot_certificate(encrypted + cert.cert_pem, b"pass phrase")
    assert "ENCRYPTED" not in parsed.sealed_form() and parsed.sealed_form().startswith("-----BEGIN PRIVATE KEY")


@pytest.mark.parametrize(("pem", "problem"), [
    ("cert only", "holds no private key"),
    ("key only", "holds no certificate"),
    ("another key", "no certificate in the PEM belongs to its private key"),
    ("ec key", "must be RSA"),
])
def test_a_pem_that_cannot_serve_is_refused_with_the_reason(cert: TestCertificate, pem: str, problem: str) -> None:
    other = self_signed(days=90)
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    given = {"cert only": cert.cert_pem, "key only": cert.key_pem, "another key": other.key_pem + cert.cert_pem,
             "ec key": ec_key + cert.cert_pem}[pem]
    with pytest.raises(BotCertificateError, match=problem) as refused:
        parse_bot_certificate(given)
    assert refused.value.hint  # every refusal says what to do


def test_the_stored_certificate_wins_over_a_secret_and_the_secret_is_the_fallback(cert: TestCertificate) -> None:
    store = Secrets()
    assert bot_credential(store, BOT_SECRET) is None and stored_bot_certificate(store) is None
    store[BOT_SECRET] = "a-client-secret-value"
    assert bot_credential(store, BOT_SECRET) == "a-client-secret-value"
    store[BOT_CERTIFICATE] = parse_bot_certificate(cert.pem).sealed_form()
    credential = bot_credential(store, BOT_SECRET)
    assert isinstance(credential, dict) and credential["public_certificate"] == cert.cert_pem.decode()
