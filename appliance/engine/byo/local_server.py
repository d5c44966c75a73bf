"""`llm.mode = "local-server"`: an OpenAI-compatible server inside the tenant (llama.cpp server, vLLM).

For tenants that outgrow one process. The request carries the same prompt the local engine caches
(rules, one line per tool, one worked example per tool: constants, no tenant data) plus the bounded
conversation, and the catalog's grounded JSON schema as the structured-output constraint
(`response_format = {"type": "json_schema", ...}`): the server's grammar engine constrains decoding to
exactly the object the local engine produces, `{"tool": ..., "arguments": {...}}`. Greedy (temperature 0).
Chat-control markers a person typed are broken up first: such servers apply the chat template
themselves and parse special tokens in message text.
"""

from __future__ import annotations

import json
from typing import Any

from appliance.catalog import Catalog
from appliance.egress import Allowlist
from appliance.engine.byo.base import Answer, ByoConfig, ByoOrchestrator, refused
from appliance.engine.byo.openai_orchestrator import chat_completion, openai_client, token_counts
from appliance.engine.prompt import fixed_turns


def parse_call(text: str) -> tuple[str, Any]:
    """The server's JSON answer -> (tool, arguments); refused unless it is exactly `{"tool", "arguments"}`."""
    try:
        obj = json.loads(text)
    except ValueError:
        raise refused("local-server: the answer is not JSON") from None
    if not isinstance(obj, dict) or set(obj) != {"tool", "arguments"}:
        raise refused('local-server: the answer is not a {"tool", "arguments"} object')
    return obj["tool"], obj["arguments"]


class LocalServerOrchestrator(ByoOrchestrator):
    """A tool call from an in-tenant OpenAI-compatible server, constrained by the catalog's JSON schema."""

    backend = "local-server"
    neutralize_markers = True

    def __init__(self, catalog: Catalog, config: ByoConfig, *, allowlist: Allowlist | None = None) -> None:
        super().__init__(catalog, config, allowlist=allowlist)
        self.client = openai_client(config, self.http_client)
        self.fixed = fixed_turns(catalog)

    def _ask(self, turns: list[dict[str, str]], schema: dict[str, Any]) -> Answer:
        constraint = {"name": "tool_call", "schema": schema, "strict": True}
        completion, choice = chat_completion(
            self.client,
            self.backend,
            model=self.config.model,
            messages=[*self.fixed, *turns],
            response_format={"type": "json_schema", "json_schema": constraint},
            temperature=0,
            max_tokens=self.config.max_output_tokens,
        )
        text = choice.message.content or ""
        cut_short = choice.finish_reason == "length"
        calls = [parse_call(text)] if text.strip() and not cut_short else []
        prompt_tokens, generated_tokens = token_counts(completion)
        return Answer(
            calls=calls,
            raw_text=text,
            model=completion.model,
            prompt_tokens=prompt_tokens,
            generated_tokens=generated_tokens,
            cut_short=cut_short,
        )
