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
    retrieved_examples: int = Field(
        default=2, ge=0, le=8, description="Worked examples most like the message, shown right before it (0 = off)"
    )
    qualify_right_tool: float = Field(
        default=0.90, ge=0.0, le=1.0, description="`models qualify`: right-tool rate needed for state changes"
    )
    qualify_fully_right: float = Field(
        default=0.80, ge=0.0, le=1.0, description="`models qualify`: the fully-right rate (tool and arguments) needed"
    )
    qualify_emergency_right_tool: float = Field(
        default=1.0, ge=0.0, le=1.0, description="`models qualify`: the right-tool rate on emergencies needed"
    )
    route_tools: int = Field(
        default=1, ge=0, le=32,
        description="Keep only this many allowed tools, ranked by the intent router (0 = off; 1 = the router chooses "
        "the tool and the model fills its arguments)",
    )
    batch_size: int = Field(
        default=8, ge=1, le=64, description="Conversations decoded together in one llama.cpp batch (1 = one at a time)"
    )
    queue_limit: int = Field(
        default=64, ge=1, le=10_000, description="Turns that may wait for the model; more are told to try again"
    )


class LLMSettings(BaseModel):
    """Which orchestrator makes the tool call. `local` (default) keeps everything inside the tenant.

    Bring-your-own modes (optional extras, `appliance/engine/byo/`): `anthropic` and `openai` (cloud
    APIs), `local-server` (an OpenAI-compatible llama.cpp server or vLLM inside the tenant boundary).
    Their proposals pass the same validation, gate and audit as the local model's.

    Checked when settings load (a `ConfigError` names the setting and what to do):
    - `local` refuses every other `[llm]` key: nothing may point the appliance at an LLM service.
    - a BYO mode needs `model`; `local-server` also needs `endpoint` (the others default to the
      provider's own API).
    - `endpoint` is https. Plain http is accepted only for `local-server` on a loopback or private IP
      address (or `localhost`): the conversation (people's names and addresses) travels in the request,
      and an in-tenant llama.cpp server often has no TLS; an address that is not routable on the
      internet keeps that traffic inside the boundary. A host *name* cannot be proven private when
      settings load, so it needs https. Link-local addresses (cloud metadata, 169.254.169.254) are refused.
    - `api_key_env` is the NAME of the environment variable that holds the key (a mounted secret);
      the key itself never goes in appliance.toml (`api_key` is refused with that advice).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["local", "anthropic", "openai", "local-server"] = "local"
    model: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$",
        description="The provider's model name, e.g. claude-sonnet-4-5 (required in BYO modes)",
    )
    endpoint: str | None = Field(
        default=None,
        description="Base URL (default https://api.anthropic.com, https://api.openai.com/v1); local-server: required",
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (default ANTHROPIC_API_KEY / "
        "OPENAI_API_KEY; local-server: none)",
    )
    api_key: str | None = Field(default=None, repr=False, exclude=True, description="Always refused: see api_key_env")
    ca_bundle: Path | None = Field(default=None, description="Trust only this CA for the endpoint (private CA, proxy)")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=1, ge=0, le=5, description="SDK retries on 429/5xx/connection errors")
    max_output_tokens: int = Field(
        default=4096, ge=256, le=65_536, description="Must cover the catalog's longest call (checked at start-up)"
    )
    context_chars: int = Field(
        default=6000, ge=500, le=100_000, description="Characters of conversation sent per message (newest first)"
    )

    @property
    def byo(self) -> bool:
        """True in a bring-your-own-LLM mode (anything but `local`)."""
        return self.mode != "local"

    @property
    def resolved_endpoint(self) -> str | None:
        """The base URL the BYO orchestrator talks to (the provider default if none is set), or None."""
        defaults = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com/v1"}
        endpoint = self.endpoint or defaults.get(self.mode)
        return endpoint.rstrip("/") if endpoint else None

    @property
    def resolved_api_key_env(self) -> str | None:
        """The environment variable the API key is read from (None: the server needs no key)."""
        defaults = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
        return self.api_key_env or defaults.get(self.mode)

    def model_post_init(self, context: object, /) -> None:
        """Refuse settings that contradict the mode (raises ConfigError, not a ValidationError)."""
        import re

        byo_modes = '"anthropic", "openai" or "local-server"'
        if self.api_key is not None:
            raise ConfigError(
                "setting `llm.api_key`: an API key must never be written in appliance.toml",
                hint="Remove llm.api_key; put the key in an environment variable (a mounted secret) and name "
                "that variable in llm.api_key_env.",
            )
        if self.mode == "local":
            extra = sorted(self.model_fields_set - {"mode"})
            if extra:
                raise ConfigError(
                    f'setting `llm.{extra[0]}` is set but llm.mode is "local" (nothing may leave the tenant)',
                    hint=f"Remove llm.{extra[0]} from appliance.toml, or set llm.mode to {byo_modes} to use "
                    "a bring-your-own LLM.",
                )
            return
        if not self.model:
            raise ConfigError(
                f'setting `llm.model` is required when llm.mode is "{self.mode}"',
                hint="Set llm.model to the model name the provider or server serves (it is recorded in audit).",
            )
        if self.mode == "local-server" and not self.endpoint:
            raise ConfigError(
                'setting `llm.endpoint` is required when llm.mode is "local-server"',
                hint="Set llm.endpoint to the in-tenant server's base URL, e.g. https://llm.internal:8080/v1.",
            )
        if self.api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", self.api_key_env):
            raise ConfigError(
                "setting `llm.api_key_env` must be the NAME of an environment variable (letters, digits, _)",
                hint="If you pasted the key itself, remove it from appliance.toml and rotate it; put it in an "
                "environment variable and name that variable here.",
            )
        if self.endpoint is not None:
            self._check_endpoint(self.endpoint)

    def _check_endpoint(self, endpoint: str) -> None:
        import ipaddress
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        fix = "Set llm.endpoint to a plain base URL such as https://host[:port][/v1]."
        try:
            host, _ = parts.hostname, parts.port
        except ValueError:
            host = None
        if parts.scheme not in {"https", "http"} or not host:
            raise ConfigError("setting `llm.endpoint` is not an http(s) URL with a host", hint=fix)
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ConfigError("setting `llm.endpoint` may not carry credentials, a query or a fragment", hint=fix)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and (address.is_link_local or address.is_unspecified or address.is_multicast):
            raise ConfigError(
                f"setting `llm.endpoint`: {host} is a link-local, unspecified or multicast address",
                hint="Point llm.endpoint at the LLM server's own address (never a metadata or wildcard address).",
            )
        if parts.scheme == "https":
            return
        in_tenant = host == "localhost" or (address is not None and (address.is_loopback or address.is_private))
        if self.mode != "local-server" or not in_tenant:
            raise ConfigError(
                f'setting `llm.endpoint` uses http; llm.mode "{self.mode}" needs https here',
                hint="Use https. Plain http is accepted only for llm.mode = \"local-server\" on a loopback or "
                "private IP address inside the tenant boundary.",
            )


class StoreSettings(BaseModel):
    """The encrypted store: where its key comes from and how long each kind of record is kept."""

    model_config = ConfigDict(extra="forbid")

    key_provider: Literal["file", "env", "pkcs11"] = "file"
    key_file: Path | None = Field(
        default=None, description="Default: <APPLIANCE_HOME>/../<home name>.key (outside the data dir); pkcs11: "
        "the wrapped key file, default <home name>.key.wrapped"
    )
    key_env: str = "APPLIANCE_STORE_KEY"
    pkcs11_module: Path = Field(default=Path("/usr/lib/softhsm/libsofthsm2.so"),
                                description="The HSM vendor's PKCS#11 library (key_provider = \"pkcs11\")")
    pkcs11_token_label: str = Field(default="aidizen", description="The token holding the wrapping key")
    pkcs11_key_label: str = Field(default="aidizen-store-kek", description="Base label of the wrapping key")
    pkcs11_pin_env: str = Field(default="APPLIANCE_PKCS11_PIN", description="Variable holding the token's user PIN")
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
    accept_supersets: list[str] = Field(
        default_factory=list, description="Scopes (e.g. User.ReadUpdate.All) that a documented broader scope "
        "may stand in for, when the tenant cannot consent to the least-privileged one (docs/GRAPH.md)"
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
    tls_cert: Path | None = Field(default=None, description="Serve /api/messages over HTTPS with this certificate")
    tls_key: Path | None = None
    max_activity_bytes: int = Field(default=256 * 1024, ge=4096, le=4 * 1024 * 1024)
    max_concurrent_turns: int = Field(default=64, ge=1, le=10_000)
    turns_per_minute: int = Field(default=12, ge=1, le=600, description="Messages one person may send per minute")
    conversations_per_sender: int = Field(
        default=3, ge=1, le=100, description="Conversations with the Aid stored per person (a 1:1 chat is one)"
    )
    waiting_turns_per_sender: int = Field(
        default=3, ge=1, le=100, description="One person's messages that may wait for an answer at once"
    )


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
    reconcile_after_seconds: int = Field(
        default=300, ge=0, description="How long a write whose answer was lost waits for its directory audit entry "
        "before its outcome is recorded Unknown (entries take up to 5 min: 99th percentile)"
    )
    upkeep_seconds: float = Field(
        default=15.0, ge=0.5, le=300, description="How often the appliance settles interrupted actions, expires "
        "cards, joins audit entries and resends undelivered messages"
    )
    two_person_tools: list[str] = Field(
        default_factory=list, description="State-changing tools that also need a second approver's approval"
    )
    approvers: list[str] = Field(default_factory=list, description="UPNs who may give the second approval")


class AuditSettings(BaseModel):
    """The appliance's own audit records (joined to the tenant's M365 audit log)."""

    model_config = ConfigDict(extra="forbid")

    implementer: Literal["Direct", "MSP", "Partner"] = "Direct"
    implementer_name: str = Field(default="aidizen", max_length=100)
    reviewers: list[str] = Field(
        default_factory=list, description="UPNs who may see every audit record through m365_audit_query"
    )
    anchor_key_file: Path | None = Field(
        default=None, description="The Ed25519 key that signs audit checkpoints (default: beside the store key)"
    )


class AuditApiSettings(BaseModel):
    """`GET /api/audit/records` and `/api/audit/verify` for reviewers holding an app role in your Entra.

    Register an API app (App ID URI, an application app role `role`), grant or assign that role to the
    reviewers' apps or users, and set `client_id` / `app_id_uri` here (docs/DEPLOY.md).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    app_id_uri: str = Field(default="api://aidizen-audit", description="The API app's App ID URI (v1.0 tokens' aud)")
    client_id: str = Field(default="", description="The API app's application id (v2.0 tokens' aud)")
    tenant_id: str = Field(default="", description="Tenant GUID whose tokens are accepted (default: [teams] "
                           "allowed_tenant_id)")
    role: str = Field(default="AuditRecords.Read.All", description="The app role a caller must hold")
    max_page: int = Field(default=1000, ge=1, le=10_000, description="Most records in one page")


class EgressSettings(BaseModel):
    """Extra destinations beyond Entra, Graph, Teams and (BYO mode) the LLM endpoint."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = Field(default_factory=list, description="More https://host[:port] destinations")


class MetricsSettings(BaseModel):
    """`/metrics` (Prometheus text format) on its own listener, apart from the Teams endpoint."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = Field(default="", description="Default: [teams] host")
    port: int | None = Field(default=None, ge=0, le=65535, description="Default 9464 (dev: any free port); 0 = any")
    audit_check_minutes: int = Field(default=60, ge=1, le=24 * 60, description="How often the audit chain is verified")


class MCPSettings(BaseModel):
    """The MCP server (`appliance/mcp/`): any MCP orchestrator may propose catalog calls; confirmations
    stay in the requester's Teams chat. An OAuth 2.1 resource server: only Entra access tokens of
    `tenant_id` for this app registration, with the scope or app role below, are accepted."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    host: str = "0.0.0.0"
    port: int = Field(default=3979, ge=1, le=65535, description="Its own port (the Teams endpoint keeps [teams] port)")
    public_url: str = Field(
        default="", description="The URL agents use, e.g. https://aid.yourco.com:3979/mcp (the OAuth resource)"
    )
    app_id: str = Field(default="", description="The MCP app registration's application (client) id")
    app_id_uri: str = Field(default="", description="Its Application ID URI (default api://<app_id>)")
    tenant_id: str = Field(default="", description="The Entra tenant id tokens must come from (default [teams] "
                           "allowed_tenant_id)")
    scope: str = Field(default="Aid.Request", pattern=r"^[A-Za-z0-9._-]{1,64}$",
                       description="The delegated scope the API exposes (admin consent)")
    app_role: str = Field(default="Aid.Requester", pattern=r"^[A-Za-z0-9._-]{1,64}$",
                          description="The app role an admin assigns to people (accepted instead of the scope)")
    tls_cert: Path | None = Field(default=None, description="Serve HTTPS with this certificate (default [teams] one)")
    tls_key: Path | None = None

    @property
    def audience_uri(self) -> str:
        """The Application ID URI tokens are issued for."""
        return self.app_id_uri or (f"api://{self.app_id}" if self.app_id else "")


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
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    audit_api: AuditApiSettings = Field(default_factory=AuditApiSettings)
    mcp: MCPSettings = Field(default_factory=MCPSettings)
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
