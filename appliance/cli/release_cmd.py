"""`appliance release keygen|sign|verify`: the vendor signs the image digest and the SBOM; anyone verifies."""

from __future__ import annotations

import json
from importlib.metadata import version as package_version
from pathlib import Path

import click

FILE = click.Path(path_type=Path, dir_okay=False)
EXISTING = click.Path(path_type=Path, dir_okay=False, exists=True)


@click.group()
def release() -> None:
    """Sign release artifacts (image digest + CycloneDX SBOM from `make sbom`) and verify them."""


@release.command()
@click.option("--private-key", type=FILE, required=True, help="Where to write the private key (PEM, 0600).")
@click.option("--public-key", type=FILE, required=True, help="Where to write the public key (PEM).")
def keygen(private_key: Path, public_key: Path) -> None:
    """Make the vendor's Ed25519 signing key pair (keep the private key offline)."""
    from appliance.release import generate_keypair

    generate_keypair(private_key, public_key)
    click.echo(f"wrote {private_key} (private, 0600) and {public_key} (public: ship it with the docs)")


@release.command()
@click.option("--key", "private_key", type=EXISTING, required=True, help="The vendor's private key (PEM).")
@click.option("--image-digest", required=True, help="sha256:... of the image as pushed.")
@click.option("--sbom", type=EXISTING, required=True, help="The SBOM file (dist/sbom.cdx.json).")
@click.option("--out", type=FILE, required=True, help="The signature file to write.")
@click.option("--version", "release_version", default=None, help="Release version (default: this package's).")
def sign(private_key: Path, image_digest: str, sbom: Path, out: Path, release_version: str | None) -> None:
    """Sign {image digest, SBOM sha256, version}."""
    from appliance.release import sign_release
    from appliance.release.signing import statement_for

    statement = statement_for(image_digest, sbom, release_version or package_version("aidizen-appliance"))
    out.write_text(json.dumps(sign_release(statement, private_key), indent=1, sort_keys=True) + "\n")
    click.echo(f"signed {statement.image_digest} + SBOM sha256:{statement.sbom_sha256} -> {out}")


@release.command()
@click.option("--public-key", type=EXISTING, required=True, help="The vendor's public key (PEM).")
@click.option("--image-digest", required=True, help="sha256:... of the image you are about to deploy.")
@click.option("--sbom", type=EXISTING, required=True, help="The SBOM file that came with it.")
@click.option("--signature", type=EXISTING, required=True, help="The signature file that came with it.")
def verify(public_key: Path, image_digest: str, sbom: Path, signature: Path) -> None:
    """Verify with the public key only; exit 1 (and say what differs) unless everything matches."""
    from appliance.release import SignatureError, verify_release

    try:
        document = json.loads(signature.read_text(encoding="utf-8"))
    except ValueError:
        raise SignatureError(f"{signature} is not JSON") from None
    statement = verify_release(document, public_key, image_digest=image_digest, sbom=sbom)
    click.echo(f"verified: {statement.image_digest}, SBOM sha256:{statement.sbom_sha256}, version {statement.version}")
