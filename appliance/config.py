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
    strict_scopes: bool = Field(
        default=False, description="Refuse to start when the Aid holds scopes no enabled tool needs"
    )


class TeamsSettings(BaseModel):
    """The chat app registration (the bot) and where Teams reaches it."""

    model_config = ConfigDict(extra="forbid")

    app_id: str = Field(default="", description="The bot's app registration id (the JWT audience)")
    app_tenant_id: str = Field(default="", description="The tenant of the bot's app registration (single-tenant)")
    allowed_tenant_id: str = Field(default="", description="Only activities from this Entra tenant are served")
    service_urls: list[str] = Field(
        default_factory=lambda: ["https://smba.trafficmanager.net"],
        description="Teams service URL hosts the Aid may reply to (the egress allowlist)",
    )
    host: str = "0.0.0.0"
    port: int = Field(default=3978, ge=1, le=65535)
    max_activity_bytes: int = Field(default=256 * 1024, ge=4096, le=4 * 1024 * 1024)
    max_concurrent_turns: int = Field(default=64, ge=1, le=10_000)


class GateSettings(BaseModel):
    """Who may ask the Aid for what, and how long a proposed change waits for its confirmation."""

    model_config = ConfigDict(extra="forbid")

    confirmation_minutes: int = Field(default=10, ge=1, le=24 * 60)
    requesters: list[str] = Field(
        default_factory=list, description="UPNs allowed to use the Aid's tools (besides members of requester_groups)"
    )
    requester_groups: list[str] = Field(
        default_factory=list, description="Mail addresses of groups whose members may use the Aid's tools"
    )
    two_person_tools: list[str] = Field(
        default_factory=list, description="Tools that also need a second approver (from `approvers`) to confirm"
    )
    approvers: list[str] = Field(default_factory=list, description="UPNs who may give the second approval")
    reconcile_after_seconds: int = Field(
        default=300, ge=0, description="How long an interrupted action may wait for its directory audit entry"
    )


class AuditSettings(BaseModel):
    """The appliance's own audit records (joined to the tenant's M365 audit log)."""

    model_config = ConfigDict(extra="forbid")

    implementer: Literal["Direct", "MSP", "Partner"] = "Direct"
    implementer_name: str = Field(default="aidizen", max_length=100)
    reviewers: list[str] = Field(
        default_factory=list, description="UPNs who may see every audit record through m365_audit_query"
    )


class EgressSettings(BaseModel):
    """Extra destinations beyond Entra, Graph, Teams and (BYO mode) the LLM endpoint."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = Field(default_factory=list, description="More https://host[:port] destinations")


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
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    gate: GateSettings = Field(default_factory=GateSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    egress: EgressSettings = Field(default_factory=EgressSettings)
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
