"""`llm.mode = "anthropic"`: the official `anthropic` SDK, Messages API, strict tools, tool_choice any.

The catalog goes out as strict tools (`strict: true`, the grounded argument schema of each tool), with
`tool_choice = {"type": "any", "disable_parallel_tool_use": true}`: the model must call exactly one.
The SDK's httpx client is the guarded one, so it can reach only `llm.endpoint`.
"""

from __future__ import annotations

from typing import Any

import anthropic

from appliance.catalog import Catalog
from appliance.egress import Allowlist
from appliance.engine.byo.base import (
    SYSTEM_TEXT,
    Answer,
    ByoConfig,
    ByoOrchestrator,
    call_text,
    offered_tools,
    provider_error,
)


class AnthropicOrchestrator(ByoOrchestrator):
    """A tool call from Anthropic's Messages API, validated like the local model's output."""

    backend = "anthropic"

    def __init__(self, catalog: Catalog, config: ByoConfig, *, allowlist: Allowlist | None = None) -> None:
        super().__init__(catalog, config, allowlist=allowlist)
        self.client = anthropic.Anthropic(
            api_key=config.api_key,
            base_url=config.endpoint,
            timeout=config.timeout_seconds,
            max_retries=config.max_retries,
            http_client=self.http_client,
        )

    def tools(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The grounded catalog as Anthropic strict tools."""
        return [
            {"name": t.name, "description": t.description, "input_schema": t.parameters, "strict": True}
            for t in offered_tools(self.catalog, schema)
        ]

    def _ask(self, turns: list[dict[str, str]], schema: dict[str, Any]) -> Answer:
        messages: Any = turns  # plain dicts: the SDK's TypedDicts describe the same JSON
        tools: Any = self.tools(schema)
        try:
            message = self.client.messages.create(
                model=self.config.model,
                max_tokens=self.config.max_output_tokens,
                system=SYSTEM_TEXT,
                messages=messages,
                tools=tools,
                tool_choice={"type": "any", "disable_parallel_tool_use": True},
            )
        except anthropic.APIError as exc:
            raise provider_error(exc, self.backend) from exc
        calls = [(block.name, block.input) for block in message.content if block.type == "tool_use"]
        raw = "\n".join(call_text(name, arguments) for name, arguments in calls)
        return Answer(
            calls=calls,
            raw_text=raw,
            model=message.model,
            prompt_tokens=message.usage.input_tokens,
            generated_tokens=message.usage.output_tokens,
            cut_short=message.stop_reason == "max_tokens",
            declined=message.stop_reason == "refusal",
        )
