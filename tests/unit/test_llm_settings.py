"""[llm] settings: local mode refuses any LLM service setting; BYO modes need theirs; the https rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.catalog import DEFAULT_CATALOG
from appliance.config import LLMSettings, Settings, load_settings
from appliance.engine.byo import build_byo_orchestrator, llm_destinations
from appliance.engine.byo.openai_orchestrator import OpenAIOrchestrator
from appliance.errors import ConfigError


def load(home: Path, llm_toml: str) -> Settings:
    (home / "appliance.toml").write_text("[llm]\n" + llm_toml, encoding="utf-8")
    return load_settings(home)


def test_local_is_the_default_and_reaches_no_llm(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.llm.mode == "local" and not settings.llm.byo
    assert llm_destinations(settings) == []
    assert llm_destinations(load(tmp_path, 'mode = "local"\n')) == []


@pytest.mark.parametrize(
    ("line", "setting"),
    [
        ('model = "claude-sonnet-4-5"', "llm.model"),
        ('endpoint = "https://api.anthropic.com"', "llm.endpoint"),
        ('api_key_env = "ANTHROPIC_API_KEY"', "llm.api_key_env"),
        ("timeout_seconds = 10", "llm.timeout_seconds"),
    ],
)
def test_local_mode_refuses_cloud_llm_settings_when_settings_load(tmp_path: Path, line: str, setting: str) -> None:
    with pytest.raises(ConfigError, match=f'`{setting}` is set but llm.mode is "local"') as caught:
        load(tmp_path, f'mode = "local"\n{line}\n')
    assert f"Remove {setting}" in caught.value.hint and "llm.mode" in caught.value.hint
    with pytest.raises(ConfigError, match=setting):
        load(tmp_path, f"{line}\n")  # mode left out: still local


def test_an_api_key_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"llm\.api_key") as caught:
        load(tmp_path, 'mode = "anthropic"\nmodel = "claude-x"\napi_key = "sk-ant-SECRET"\n')
    assert "SECRET" not in str(caught.value) + caught.value.hint
    assert "api_key_env" in caught.value.hint
    with pytest.raises(ConfigError, match="NAME of an environment variable") as pasted:
        load(tmp_path, 'mode = "openai"\nmodel = "gpt-x"\napi_key_env = "sk-proj-SECRET-123"\n')
    assert "SECRET" not in str(pasted.value) + pasted.value.hint


@pytest.mark.parametrize(
    ("toml", "setting"),
    [
        ('mode = "anthropic"\n', "llm.model"),
        ('mode = "openai"\n', "llm.model"),
        ('mode = "local-server"\nmodel = "qwen"\n', "llm.endpoint"),
    ],
)
def test_byo_modes_need_their_settings(tmp_path: Path, toml: str, setting: str) -> None:
    with pytest.raises(ConfigError, match=f"`{setting}` is required"):
        load(tmp_path, toml)


def test_byo_modes_resolve_provider_defaults(tmp_path: Path) -> None:
    anthropic = load(tmp_path, 'mode = "anthropic"\nmodel = "claude-x"\n')
    assert anthropic.llm.resolved_endpoint == "https://api.anthropic.com"
    assert anthropic.llm.resolved_api_key_env == "ANTHROPIC_API_KEY"
    assert llm_destinations(anthropic) == ["https://api.anthropic.com"]
    openai = load(tmp_path, 'mode = "openai"\nmodel = "gpt-x"\n')
    assert openai.llm.resolved_endpoint == "https://api.openai.com/v1"
    assert llm_destinations(openai) == ["https://api.openai.com"]
    server = load(tmp_path, 'mode = "local-server"\nmodel = "qwen"\nendpoint = "http://10.1.2.3:8080/v1/"\n')
    assert server.llm.resolved_endpoint == "http://10.1.2.3:8080/v1"
    assert server.llm.resolved_api_key_env is None
    assert llm_destinations(server) == ["http://10.1.2.3:8080"]


@pytest.mark.parametrize(
    ("mode", "endpoint", "ok"),
    [
        ("anthropic", "https://gateway.corp.example/anthropic", True),
        ("anthropic", "http://127.0.0.1:8080", False),
        ("openai", "http://10.0.0.5/v1", False),
        ("local-server", "http://127.0.0.1:8080/v1", True),
        ("local-server", "http://localhost:8080/v1", True),
        ("local-server", "http://10.0.0.5:8000/v1", True),
        ("local-server", "http://192.168.1.20:8000/v1", True),
        ("local-server", "http://[::1]:8000/v1", True),
        ("local-server", "https://vllm.llm.svc.cluster.local/v1", True),
        ("local-server", "http://vllm.llm.svc.cluster.local/v1", False),  # a name cannot be proven private
        ("local-server", "http://8.8.8.8/v1", False),
        ("local-server", "http://169.254.169.254/v1", False),  # link-local: cloud metadata
        ("local-server", "https://169.254.169.254/v1", False),
        ("local-server", "http://0.0.0.0:8000/v1", False),
        ("local-server", "https://user:pw@llm.internal/v1", False),
        ("local-server", "https://llm.internal/v1?key=1", False),
        ("local-server", "ftp://llm.internal/v1", False),
        ("local-server", "llm.internal:8080", False),
    ],
)
def test_the_endpoint_must_be_https_except_an_in_tenant_server_on_a_private_address(
    mode: str, endpoint: str, ok: bool
) -> None:
    values: dict[str, Any] = {"mode": mode, "model": "m", "endpoint": endpoint}
    if ok:
        assert LLMSettings(**values).endpoint == endpoint
    else:
        with pytest.raises(ConfigError, match=r"llm\.endpoint") as caught:
            LLMSettings(**values)
        assert caught.value.hint


def test_building_a_byo_orchestrator_needs_its_key_and_enough_output_tokens(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='"local"'):
        build_byo_orchestrator(Settings(home=tmp_path), DEFAULT_CATALOG, environ={})
    cloud = Settings(home=tmp_path, llm=LLMSettings(mode="anthropic", model="claude-x"))
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY") as caught:
        build_byo_orchestrator(cloud, DEFAULT_CATALOG, environ={"ANTHROPIC_API_KEY": " "})
    assert "llm.api_key_env" in caught.value.hint
    short = Settings(home=tmp_path, llm=LLMSettings(mode="openai", model="gpt-x", max_output_tokens=256))
    with pytest.raises(ConfigError, match=r"llm\.max_output_tokens"):
        build_byo_orchestrator(short, DEFAULT_CATALOG, environ={"OPENAI_API_KEY": "k"})
    named = Settings(home=tmp_path, llm=LLMSettings(mode="openai", model="gpt-x", api_key_env="MY_LLM_KEY"))
    orchestrator = build_byo_orchestrator(named, DEFAULT_CATALOG, environ={"MY_LLM_KEY": "sk-KEY-CANARY"})
    assert isinstance(orchestrator, OpenAIOrchestrator)
    assert orchestrator.config.api_key == "sk-KEY-CANARY"
    assert "CANARY" not in repr(orchestrator.config)  # the key never shows in a repr
    orchestrator.close()
