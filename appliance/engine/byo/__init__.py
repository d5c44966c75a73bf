"""Bring-your-own-LLM orchestrators (optional extras `anthropic` and `openai`).

`llm.mode` picks one: `anthropic` (Messages API, strict tools), `openai` (Chat Completions, strict
function tools) or `local-server` (an OpenAI-compatible server inside the tenant, sent the catalog's
JSON schema as its structured-output constraint). Each implements `ports.ToolCallModel`, sends only
the bounded user messages and tool-result shapes, and returns a call validated exactly as the local
engine's (grounded JSON schema, then the catalog), so it goes through the same gate and audit.

`Proposal.model` is `<backend>:<model the provider says it served>`; `Proposal.model_sha256` is ""
(the appliance holds no weights to hash; a fingerprint of endpoint + model would look like a weight
hash in the audit record without proving anything about the weights).

The SDKs are imported only when a BYO orchestrator is built, so a local-only install needs neither.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from appliance.catalog import Catalog
from appliance.config import Settings
from appliance.engine.byo.base import (
    ByoConfig,
    ByoOrchestrator,
    LLMAuthError,
    LLMProviderError,
    LLMRateLimited,
    LLMUnavailable,
    origin,
)
from appliance.errors import ConfigError
from appliance.grammar import max_tokens, tool_call_schema

if TYPE_CHECKING:
    from appliance.ports import ToolCallModel

__all__ = [
    "ByoConfig",
    "ByoOrchestrator",
    "LLMAuthError",
    "LLMProviderError",
    "LLMRateLimited",
    "LLMUnavailable",
    "build_byo_orchestrator",
    "llm_destinations",
]

_EXTRA = {"anthropic": "anthropic", "openai": "openai", "local-server": "openai"}


def llm_destinations(settings: Settings) -> list[str]:
    """The egress allowlist entries the LLM needs: `[origin of llm.endpoint]` in BYO mode, `[]` in local mode."""
    endpoint = settings.llm.resolved_endpoint
    return [origin(endpoint)] if settings.llm.byo and endpoint else []


def build_byo_orchestrator(
    settings: Settings, catalog: Catalog, *, environ: Mapping[str, str] | None = None
) -> ToolCallModel:
    """The orchestrator `llm.mode` names, on a guarded httpx client that reaches only `llm.endpoint`.

    Raises ConfigError in local mode, when the API key's environment variable is empty, when the SDK
    extra is not installed, or when `llm.max_output_tokens` could cut the catalog's longest call short.
    """
    llm = settings.llm
    if not llm.byo:
        raise ConfigError(
            'llm.mode is "local": there is no bring-your-own LLM to build',
            hint="Use the local orchestrator, or set llm.mode (and llm.model) for a BYO LLM.",
        )
    needed = max_tokens(tool_call_schema(catalog))
    if llm.max_output_tokens < needed:
        raise ConfigError(
            f"setting `llm.max_output_tokens` ({llm.max_output_tokens}) is below {needed}, the longest call "
            "the catalog admits",
            hint=f"Set llm.max_output_tokens to at least {needed}, so no valid call can be cut short.",
        )
    config = ByoConfig.from_settings(llm, dict(os.environ if environ is None else environ))
    try:
        if llm.mode == "anthropic":
            from appliance.engine.byo.anthropic_orchestrator import AnthropicOrchestrator

            return AnthropicOrchestrator(catalog, config)
        if llm.mode == "openai":
            from appliance.engine.byo.openai_orchestrator import OpenAIOrchestrator

            return OpenAIOrchestrator(catalog, config)
        from appliance.engine.byo.local_server import LocalServerOrchestrator

        return LocalServerOrchestrator(catalog, config)
    except ModuleNotFoundError as exc:
        if exc.name not in {"anthropic", "openai"}:
            raise
        extra = _EXTRA[llm.mode]
        raise ConfigError(
            f'llm.mode "{llm.mode}" needs the {exc.name} package, which is not installed',
            hint=f"Install the extra: pip install 'aidizen-appliance[{extra}]'.",
        ) from exc
