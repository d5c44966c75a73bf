"""`llm.mode = "openai"`: the official `openai` SDK, Chat Completions, strict function tools.

Each catalog tool is a function tool with `strict: true` and its grounded argument schema;
`tool_choice = "required"` and `parallel_tool_calls = false`: the model must call exactly one.
The SDK's httpx client is the guarded one, so it can reach only `llm.endpoint`.
"""

from __future__ import annotations

import json
from typing import Any

import openai

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
    refused,
)

NO_KEY = "unused"
"""Sent as the bearer token to an in-tenant server that needs no key (the SDK insists on one)."""


def openai_client(config: ByoConfig, http_client: Any) -> openai.OpenAI:
    """The SDK client, on the guarded httpx client, pointed at `config.endpoint` (never an env override)."""
    return openai.OpenAI(
        api_key=config.api_key or NO_KEY,
        base_url=config.endpoint,
        timeout=config.timeout_seconds,
        max_retries=config.max_retries,
        http_client=http_client,
    )


def chat_completion(client: openai.OpenAI, backend: str, **request: Any) -> tuple[Any, Any]:
    """One Chat Completions request, the one way both OpenAI-style backends send it: provider errors
    mapped to LLM errors, an answer without a choice refused. Returns the completion and its first choice."""
    create: Any = client.chat.completions.create  # the SDK's overloads describe the same JSON
    try:
        completion = create(**request)
    except openai.APIError as exc:
        raise provider_error(exc, backend) from exc
    if not completion.choices:
        raise refused(f"{backend}: the answer holds no choice")
    return completion, completion.choices[0]


def token_counts(completion: Any) -> tuple[int, int]:
    """(prompt tokens, generated tokens) as the provider reports them; (0, 0) when it reports none."""
    usage = completion.usage
    return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)


def parse_arguments(tool: str, text: str | None) -> Any:
    """A function call's `arguments` string -> JSON value (refused if it is not JSON)."""
    try:
        return json.loads(text or "")
    except ValueError:
        raise refused(f"{tool}: the tool call's arguments are not valid JSON") from None


class OpenAIOrchestrator(ByoOrchestrator):
    """A tool call from OpenAI's Chat Completions API, validated like the local model's output."""

    backend = "openai"

    def __init__(self, catalog: Catalog, config: ByoConfig, *, allowlist: Allowlist | None = None) -> None:
        super().__init__(catalog, config, allowlist=allowlist)
        self.client = openai_client(config, self.http_client)

    def tools(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The grounded catalog as strict function tools (every property required, as strict mode wants)."""
        tools = []
        for tool in offered_tools(self.catalog, schema):
            parameters = dict(tool.parameters, required=list(tool.parameters.get("properties", {})))
            function = {"name": tool.name, "description": tool.description, "parameters": parameters, "strict": True}
            tools.append({"type": "function", "function": function})
        return tools

    def _ask(self, turns: list[dict[str, str]], schema: dict[str, Any]) -> Answer:
        completion, choice = chat_completion(
            self.client,
            self.backend,
            model=self.config.model,
            messages=[{"role": "system", "content": SYSTEM_TEXT}, *turns],
            tools=self.tools(schema),
            tool_choice="required",
            parallel_tool_calls=False,
            max_completion_tokens=self.config.max_output_tokens,
        )
        calls: list[tuple[str, Any]] = []
        for tool_call in choice.message.tool_calls or []:
            if tool_call.type != "function":
                raise refused(f"{self.backend}: the answer holds a {tool_call.type!r} tool call, not a function call")
            name = tool_call.function.name
            calls.append((name, parse_arguments(name, tool_call.function.arguments)))
        prompt_tokens, generated_tokens = token_counts(completion)
        return Answer(
            calls=calls,
            raw_text="\n".join(call_text(name, arguments) for name, arguments in calls),
            model=completion.model,
            prompt_tokens=prompt_tokens,
            generated_tokens=generated_tokens,
            cut_short=choice.finish_reason == "length",
            declined=bool(choice.message.refusal) or choice.finish_reason == "content_filter",
        )
