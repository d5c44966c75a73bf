"""The production install: the wheel holds no dev world, and without it `serve`, `doctor` and `offboard`
work while the dev tenant and the fakes cannot be imported.

Method. The wheel is built the way Dockerfile.gpu builds it (`pip wheel --no-deps`), offline and from a
copy of the sources (so the checkout gets no build/ or egg-info), and its file list is checked. Then it is
installed with `pip install --no-deps --target` into a fresh folder, beside `models/manifest.toml` as
the image places it, and the CLI runs from there in child processes started with `python -S`: without
the `site` module no `.pth` file is processed, so neither this checkout's editable `appliance` nor the
editable dev world (`pip install -e ./dev`, a `.pth` entry) is on the path. The child's path is exactly
the wheel's folder and the virtual environment's site-packages (the third-party dependencies, as in the
image). A fresh `venv --system-site-packages` would not do: it sees the base interpreter's packages, not
this environment's, and anything installed there with a `.pth` would come back. Each child first proves
its environment: `appliance` comes from the wheel's folder and `appliance_dev` cannot be found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SHARED_MODELS_DIR

DEV_WORLD = ("appliance_dev/", "appliance/devtenant/", "appliance/testing/", "/certs.py", "/bench/", "benchmark.py")
PROVE_ENVIRONMENT = """
import importlib.util, sys
import appliance
assert appliance.__file__.startswith(sys.argv[1]), appliance.__file__
for name in ("appliance_dev", "appliance_dev.devtenant", "appliance.devtenant", "appliance.testing"):
    try:
        found = importlib.util.find_spec(name)
    except ModuleNotFoundError:
        found = None
    assert found is None, name
"""
IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import appliance
from appliance.errors import ApplianceError
failed, refused = [], []
for module in pkgutil.walk_packages(appliance.__path__, "appliance."):
    if module.name == "appliance.__main__":  # runs the CLI when imported
        continue
    try:
        importlib.import_module(module.name)
    except ApplianceError as exc:
        refused.append(f"{module.name}: {type(exc).__name__}")
    except Exception as exc:
        failed.append(f"{module.name}: {type(exc).__name__}: {exc}")
print("refused:", refused)
assert not failed, failed
assert refused == ["appliance.wiring.dev_world: DevWorldMissing"], refused
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The production wheel, built offline from a copy of what Dockerfile.gpu copies."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "appliance", source / "appliance", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", str(out), str(source)])
    (built,) = out.glob("aidizen_appliance-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel installed alone into a fresh folder, with the model manifest where the image puts it."""
    target = tmp_path_factory.mktemp("site")
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)])
    (target / "models").mkdir()
    shutil.copy2(REPO_ROOT / "models" / "manifest.toml", target / "models" / "manifest.toml")
    yield target


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stdout + done.stderr
    return done  # type: ignore[no-any-return]


def _child(target: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -S` with only the wheel's folder and the environment's site-packages on the path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update(PYTHONPATH=os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]),
               APPLIANCE_HOME=str(home), APPLIANCE_MODELS_DIR=str(SHARED_MODELS_DIR), PYTHONNOUSERSITE="1")
    return subprocess.run([sys.executable, "-S", *args], env=env, cwd=home, capture_output=True, text=True,
                          timeout=300, check=False)


def _cli(target: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _child(target, home, "-c", "from appliance.cli.main import cli; cli()", *args)


def test_the_wheel_holds_no_dev_world(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "appliance/wiring/service.py" in names and "appliance/cli/serve_cmd.py" in names
    assert [name for name in names if any(part in name for part in DEV_WORLD)] == []
    assert not [name for name in names if name.endswith(".json") and "seed" in name]


def test_without_the_dev_world_nothing_of_it_imports_and_every_module_of_the_appliance_does(
    installed: Path, tmp_path: Path
) -> None:
    proved = _child(installed, tmp_path, "-c", PROVE_ENVIRONMENT, str(installed))
    assert proved.returncode == 0, proved.stderr
    everything = _child(installed, tmp_path, "-c", IMPORT_EVERY_MODULE)
    assert everything.returncode == 0, everything.stdout + everything.stderr


def test_serve_doctor_and_offboard_work_without_the_dev_world(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    top = _cli(installed, home, "--help")
    assert top.returncode == 0 and "serve" in top.stdout and "offboard" in top.stdout
    for dev_command in ("demo", "devtenant", "chat", "bench"):
        assert f"  {dev_command} " not in top.stdout, top.stdout
    for command in ("serve", "offboard", "doctor"):
        shown = _cli(installed, home, command, "--help")
        assert shown.returncode == 0, shown.stdout + shown.stderr
    assert _cli(installed, home, "init").returncode == 0
    doctor = _cli(installed, home, "doctor")
    for name in ("catalog", "model", "store", "egress"):
        assert f"ok    {name}" in doctor.stdout, doctor.stdout + doctor.stderr
    # No tenant is configured here, so the identity check fails, with what to do (and no traceback).
    assert doctor.returncode == 1 and "FAIL  identity" in doctor.stdout and "what to do" in doctor.stdout
    assert "Traceback" not in doctor.stderr and "appliance_dev" not in doctor.stdout + doctor.stderr
    serve = _cli(installed, home, "serve")
    assert serve.returncode == 2 and "[teams] app_id" in serve.stderr, serve.stderr  # a config error, clearly
    demo = _cli(installed, home, "demo")
    assert demo.returncode != 0 and "No such command" in demo.stderr


def test_offboard_runs_to_its_signed_receipt_without_the_dev_world(installed: Path, tmp_path: Path) -> None:
    home, receipt = tmp_path / "home", tmp_path / "receipt.json"
    home.mkdir()
    offboard = _cli(installed, home, "offboard", "--yes", "--receipt", str(receipt))
    assert offboard.returncode in (0, 3), offboard.stdout + offboard.stderr  # 3: an admin must still act
    assert receipt.exists() and "Traceback" not in offboard.stderr
    verified = _cli(installed, home, "offboard", "verify", str(receipt))
    assert verified.returncode == 0 and "signature valid" in verified.stdout, verified.stdout + verified.stderr
