"""`appliance release keygen|sign|verify`: verification needs only the public key; a tampered SBOM,
another image digest, an altered signature file or another vendor's key are all refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli.main import cli

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("vendor.key", "vendor.pub", "sbom.cdx.json", "release.sig.json")}
    paths["sbom.cdx.json"].write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"name": "sqlcipher3", "version": "0.6.4"}, {"name": "msal", "version": "1.39.0"}]}), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["release", "keygen", "--private-key", str(paths["vendor.key"]),
                                 "--public-key", str(paths["vendor.pub"])])
    assert result.exit_code == 0, result.output
    assert paths["vendor.key"].stat().st_mode & 0o777 == 0o600
    result = runner.invoke(cli, ["release", "sign", "--key", str(paths["vendor.key"]), "--image-digest", DIGEST,
                                 "--sbom", str(paths["sbom.cdx.json"]), "--out", str(paths["release.sig.json"]),
                                 "--version", "1.2.3"])
    assert result.exit_code == 0, result.output
    return paths


def verify(paths: dict[str, Path], digest: str = DIGEST, public: str = "vendor.pub") -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["release", "verify", "--public-key", str(paths[public]), "--image-digest",
                                      digest, "--sbom", str(paths["sbom.cdx.json"]), "--signature",
                                      str(paths["release.sig.json"])])
    return result.exit_code, result.output


def test_the_public_key_alone_verifies_a_release(signed: dict[str, Path]) -> None:
    signed["vendor.key"].unlink()  # verification never needs the private key
    code, out = verify(signed)
    assert code == 0 and "verified: " + DIGEST in out and "version 1.2.3" in out


def test_a_tampered_sbom_is_refused(signed: dict[str, Path]) -> None:
    sbom = json.loads(signed["sbom.cdx.json"].read_text())
    sbom["components"][0]["version"] = "0.6.5"  # one version edited
    signed["sbom.cdx.json"].write_text(json.dumps(sbom))
    code, out = verify(signed)
    assert code == 1 and "is not the one that was signed" in out and "what to do" in out


def test_another_digest_an_edited_statement_or_another_key_is_refused(signed: dict[str, Path], tmp_path: Path) -> None:
    code, out = verify(signed, digest="sha256:" + "cd" * 32)
    assert code == 1 and "not sha256:" + "cd" * 32 in out
    document = json.loads(signed["release.sig.json"].read_text())
    signed["release.sig.json"].write_text(json.dumps({**document, "image_digest": "sha256:" + "cd" * 32}))
    code, out = verify(signed, digest="sha256:" + "cd" * 32)
    assert code == 1 and "does not verify" in out
    signed["release.sig.json"].write_text(json.dumps(document))
    signed["other.pub"] = tmp_path / "other.pub"
    CliRunner().invoke(cli, ["release", "keygen", "--private-key", str(tmp_path / "other.key"),
                             "--public-key", str(signed["other.pub"])])
    code, out = verify(signed, public="other.pub")
    assert code == 1 and "does not verify" in out


def test_a_malformed_digest_is_refused_before_signing(signed: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["release", "sign", "--key", str(signed["vendor.key"]), "--image-digest",
                                      "latest", "--sbom", str(signed["sbom.cdx.json"]), "--out",
                                      str(signed["vendor.key"].with_name("x.json"))])
    assert result.exit_code == 1 and "is not sha256:<64 hex digits>" in result.output
