"""`make sbom`: a CycloneDX JSON SBOM of the installed environment, made by the pinned cyclonedx-bom."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

MUST_LIST = ("llama-cpp-python", "sqlcipher3", "msal", "msgraph-sdk", "botbuilder-core")


def normalize(name: str) -> str:
    """PEP 503 name normalization (llama_cpp_python == llama-cpp-python)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return {normalize(name): version for name, version in re.findall(r'"([A-Za-z0-9._-]+)==([^"]+)"', text)}


def test_the_makefile_target_uses_cyclonedx_on_the_environment() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nsbom:")[1].split("\n\n")[0]
    assert "cyclonedx-py environment" in recipe and "--of JSON" in recipe
    assert "cyclonedx-bom" in pins(), "cyclonedx-bom must be pinned in the dev extras"


def test_sbom_lists_the_pinned_runtime_components(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    tool = Path(sys.executable).with_name("cyclonedx-py")
    subprocess.run(
        [
            str(tool),
            "environment",
            sys.executable,
            "--pyproject",
            str(REPO_ROOT / "pyproject.toml"),
            "--mc-type",
            "application",
            "--of",
            "JSON",
            "-o",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    bom = json.loads(out.read_text(encoding="utf-8"))
    assert bom["bomFormat"] == "CycloneDX" and bom["metadata"]["component"]["name"] == "aidizen-appliance"
    versions = {normalize(c["name"]): c.get("version") for c in bom["components"]}
    expected = pins()
    for name in MUST_LIST:
        assert versions.get(name) == expected[name], f"{name}: SBOM says {versions.get(name)}, pin {expected[name]}"
    purls = {c.get("purl", "") for c in bom["components"]}
    assert f"pkg:pypi/sqlcipher3@{expected['sqlcipher3']}" in purls
