"""Dockerfile.gpu read as text (no docker engine here): the properties the deployment relies on."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT
from tests.unit.deploy.dockerfile import Stage, exec_form, parse

DOCKERFILE = REPO_ROOT / "Dockerfile.gpu"
HOME = "/var/lib/aidizen"
MODEL_FILE = re.compile(r"\.(gguf|ggml|safetensors|bin|pt|pth|onnx)\b", re.IGNORECASE)


def stages() -> list[Stage]:
    return parse(DOCKERFILE)


def test_build_stage_is_cuda_devel_and_runs_the_shared_script_with_cuda() -> None:
    build = stages()[0]
    assert "-devel-" in build.base and build.name == "build"
    runs = " ".join(build.args("RUN"))
    assert re.search(r"deploy/build-llama-cpp\.sh .*--cuda", runs)
    assert "deploy/build-llama-cpp.sh" in " ".join(build.args("COPY"))
    assert "pip wheel" in runs  # the appliance is installed from its own wheel


def test_the_makefile_runs_the_same_script_before_installing_the_project() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    rule = makefile.split("$(VENV)/.installed:")[1].split("\n\n")[0]
    assert rule.index("deploy/build-llama-cpp.sh --python") < rule.index("pip install -e '.[dev]'")


def test_runtime_stage_is_slim_cuda_runtime_without_compilers() -> None:
    runtime = stages()[-1]
    assert "-runtime-" in runtime.base
    installs = " ".join(runtime.args("RUN"))
    assert not re.search(r"build-essential|\bgcc\b|\bcmake\b|-devel|python3\.11-dev", installs)
    assert any(arg.startswith("--from=build ") for arg in runtime.args("COPY"))


def test_runs_as_a_non_root_user() -> None:
    users = stages()[-1].args("USER")
    assert users, "the runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"} and (not user.isdigit() or int(user) > 0)


def test_no_model_weights_are_copied_or_downloaded() -> None:
    for stage in stages():
        for instruction, argument in stage.instructions:
            if instruction in {"COPY", "ADD"}:
                sources = [w for w in argument.split() if not w.startswith("--")][:-1]
                for source in sources:
                    assert not MODEL_FILE.search(source), f"{instruction} {argument}"
                    assert source.rstrip("/") not in {"models", "var", "."}, "copy named files, never a tree"
                    assert not source.startswith("models/") or source == "models/manifest.toml"
            assert instruction != "ADD" or "://" not in argument, "no downloads with ADD"
            if instruction == "RUN":
                assert not re.search(r"huggingface|hf_hub|models fetch|\.gguf", argument), argument


def test_home_is_the_only_volume_and_is_where_state_goes() -> None:
    runtime = stages()[-1]
    assert runtime.args("VOLUME") and all(HOME in v for v in runtime.args("VOLUME"))
    assert exec_form(runtime.args("VOLUME")[0]) == [HOME]
    env = " ".join(runtime.args("ENV"))
    assert f"APPLIANCE_HOME={HOME}" in env and "APPLIANCE_MODELS_DIR=/models" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # nothing written beside the code on a read-only root


def test_healthcheck_asks_readyz_on_the_bot_port() -> None:
    (check,) = stages()[-1].args("HEALTHCHECK")
    assert "http://127.0.0.1:3978/readyz" in check
    command = exec_form(check.split(" CMD ", 1)[1])
    assert command is not None and command[0] == "python"  # no curl in the image


def test_serves_by_default_in_exec_form() -> None:
    (cmd,) = stages()[-1].args("CMD")
    assert exec_form(cmd) == ["appliance", "serve"]
    assert "3978" in stages()[-1].args("EXPOSE")


def test_dockerignore_keeps_state_keys_and_weights_out_of_the_context() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {"var", ".venv", "**/*.key", "**/*.gguf", "**/*.safetensors"} <= ignored
