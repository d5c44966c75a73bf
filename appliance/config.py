"""Configuration: `$APPLIANCE_HOME/appliance.toml`, then environment overrides. Kernel: stdlib + pydantic.

All state lives under `$APPLIANCE_HOME` (default `./var`), never in the source tree.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance.errors import ConfigError

CONFIG_FILE_NAME = "appliance.toml"


class CatalogSettings(BaseModel):
    """Which catalog tools this tenant enables. A disabled tool is absent from the grammar."""

    model_config = ConfigDict(extra="forbid")

    disabled_tools: list[str] = Field(default_factory=list)


class EngineSettings(BaseModel):
    """The local model and how it decodes."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="smollm2-135m-instruct-q4_1", description="A model name from models/manifest.toml")
    backend: Literal["llguidance", "outlines"] = "llguidance"
    n_threads: int = Field(default=0, ge=0, description="0 = all cores")
    n_gpu_layers: int = Field(default=0, ge=-1, description="-1 = every layer on the GPU")
    context_tokens: int = Field(
        default=768, ge=64, le=8192, description="Token budget for the conversation given to the model"
    )
    max_message_chars: int = Field(default=4000, ge=100, le=100_000)


class LLMSettings(BaseModel):
    """Which orchestrator makes the tool call. `local` keeps everything inside the tenant."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["local"] = "local"


class StoreSettings(BaseModel):
    """The encrypted store: where its key comes from and how long each kind of record is kept."""

    model_config = ConfigDict(extra="forbid")

    key_provider: Literal["file", "env"] = "file"
    key_file: Path | None = Field(
        default=None, description="Default: <APPLIANCE_HOME>/../<home name>.key (outside the data dir)"
    )
    key_env: str = "APPLIANCE_STORE_KEY"
    memory_security: bool = Field(
        default=True, description="SQLCipher wipes and locks the memory it frees (costs ~1.5x on small writes)"
    )
    retention_conversation_days: int = Field(default=30, ge=1)
    retention_pending_days: int = Field(default=1, ge=1)
    retention_audit_days: int = Field(default=7 * 365, ge=365)


class GraphSettings(BaseModel):
    """Microsoft Graph and Entra endpoints (real tenant, national cloud, or the dev tenant)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str = ""
    client_id: str = ""
    authority_host: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: Path | None = None
    dev: bool = False


class DevTenantSettings(BaseModel):
    """The embedded dev tenant (Entra + Graph + Bot Connector emulators over HTTPS)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)


class Settings(BaseModel):
    """Every setting of one appliance. Built by `load_settings`; never read from anywhere else."""

    model_config = ConfigDict(extra="forbid")

    home: Path
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    devtenant: DevTenantSettings = Field(default_factory=DevTenantSettings)

    @property
    def models_dir(self) -> Path:
        """Where model weights live (`$APPLIANCE_MODELS_DIR`, default `$APPLIANCE_HOME/models`)."""
        override = os.environ.get("APPLIANCE_MODELS_DIR")
        return Path(override) if override else self.home / "models"

    @property
    def cache_dir(self) -> Path:
        """Derived, rebuildable artifacts (compiled constraint indexes)."""
        return self.home / "cache"


def appliance_home(environ: dict[str, str] | None = None) -> Path:
    """The state directory: `$APPLIANCE_HOME`, default `./var` (resolved to an absolute path)."""
    env = os.environ if environ is None else environ
    return Path(env.get("APPLIANCE_HOME", "var")).expanduser().resolve()


def load_settings(home: Path | None = None) -> Settings:
    """Read `appliance.toml` from the state directory (if present) and return validated settings."""
    home = home or appliance_home()
    raw: dict[str, object] = {}
    path = home / CONFIG_FILE_NAME
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    raw.pop("home", None)
    try:
        return Settings(home=home, **raw)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: setting `{where}`: {first['msg']}") from exc
