"""deploy/build-llama-cpp.sh: reads the pin, picks the flags and a wheel cache per flavor (dry runs only:
a real build takes minutes; `make venv` exercises the real install, from pip's wheel cache)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "deploy/build-llama-cpp.sh"


def dry_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args], capture_output=True, text=True, env=env, timeout=30
    )


def pinned_version() -> str:
    match = re.search(r'"llama-cpp-python==([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert match
    return match.group(1)


def test_cpu_default_uses_the_pin_and_the_default_wheel_cache() -> None:
    done = dry_run(env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert f"would install: llama-cpp-python=={pinned_version()} (cpu default)" in done.stdout
    assert "CMAKE_ARGS=\n" in done.stdout and "wheel cache: default" in done.stdout


def test_cuda_adds_the_flags_and_keeps_its_own_wheel_cache() -> None:
    h100 = dry_run("--cuda", "90")
    both = dry_run("--cuda", "80;90")
    assert "CMAKE_ARGS=-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=off" in h100.stdout
    assert "-DCMAKE_CUDA_ARCHITECTURES=80;90" in both.stdout
    caches = {line for out in (h100.stdout, both.stdout) for line in out.splitlines() if "wheel cache" in line}
    assert len(caches) == 2 and all("llama-cpp-" in c for c in caches)


def test_extra_cmake_args_are_kept_after_the_cuda_flags() -> None:
    done = dry_run("--cuda", "90", env={"PATH": "/usr/bin:/bin", "CMAKE_ARGS": "-DGGML_BLAS=on"})
    assert "-DGGML_NATIVE=off -DGGML_BLAS=on" in done.stdout


def test_bad_arguments_and_a_missing_pin_are_refused(tmp_path: Path) -> None:
    assert dry_run("--cuda", "90; rm -rf /").returncode == 2
    assert dry_run("--bogus").returncode == 2
    unpinned = tmp_path / "pyproject.toml"
    unpinned.write_text('dependencies = ["llama-cpp-python>=0.3"]\n', encoding="utf-8")
    done = dry_run("--pyproject", str(unpinned))
    assert done.returncode == 2 and "must pin exactly one" in done.stderr
