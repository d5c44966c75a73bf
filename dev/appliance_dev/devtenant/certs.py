"""The dev tenant's own CA, its server certificate and its token-signing key (made with `cryptography`).

The server certificate names the real Microsoft hosts too, so the appliance can keep the real URLs and
map them to the dev tenant at the transport: only a process that trusts this CA accepts it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVED_HOSTS = (
    "localhost",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "login.botframework.com",
    "smba.trafficmanager.net",
)


@dataclass(frozen=True)
class DevTenantKeys:
    """Paths of the CA certificate, the server certificate and key, and the token-signing key."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    signing_key: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_keys(directory: Path) -> DevTenantKeys:
    """Create the CA, server certificate and signing key on first use; reuse them afterwards."""
    keys = DevTenantKeys(
        directory / "ca.pem", directory / "server.pem", directory / "server.key", directory / "signing.key"
    )
    if all(p.exists() for p in (keys.ca_cert, keys.server_cert, keys.server_key, keys.signing_key)):
        return keys
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aidizen dev tenant CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = _key()
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in SERVED_HOSTS]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aidizen dev tenant")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    keys.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    keys.server_cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_private(keys.server_key, _pem(server_key))
    _write_private(keys.signing_key, _pem(_key()))
    return keys
