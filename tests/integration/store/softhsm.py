"""A SoftHSM2 token for the tests (Debian's `softhsm2`, a real PKCS#11 implementation).

SoftHSM reads its configuration once per process (at C_Initialize), so one token directory serves the
whole test session; each test uses its own key labels.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE_PATHS = (Path("/usr/lib/softhsm/libsofthsm2.so"), Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"))
TOKEN, PIN, SO_PIN = "aidizen-test", "4711-test", "0815-so"


@dataclass(frozen=True)
class SoftHsm:
    """An initialised token: where its module is, its label and user PIN."""

    module: Path
    token: str
    pin: str


def missing_reason() -> str | None:
    """Why SoftHSM2 cannot be used here, or None."""
    if shutil.which("softhsm2-util") is None:
        return "SoftHSM2 is not installed (apt-get install softhsm2; .ci/run installs it on a fresh machine)"
    if not any(path.exists() for path in MODULE_PATHS):
        return "softhsm2-util is installed but libsofthsm2.so is not where Debian puts it"
    return None


def initialise(directory: Path) -> tuple[SoftHsm, Path]:
    """Create a token directory and config under `directory`, initialise a token; returns it and the config."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    config = directory / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                      "slots.removable = false\n", encoding="utf-8")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
                   check=True, capture_output=True, env={"SOFTHSM2_CONF": str(config), "PATH": "/usr/bin:/bin"})
    module = next(path for path in MODULE_PATHS if path.exists())
    return SoftHsm(module, TOKEN, PIN), config
