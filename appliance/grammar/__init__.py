"""Catalog -> JSON-schema union -> constraint text (Lark for llguidance, GBNF for reference). Pure."""

from appliance.grammar.bounds import max_output_bytes, max_tokens
from appliance.grammar.lark import to_lark
from appliance.grammar.schema import Grounding, tool_call_schema

__all__ = ["Grounding", "max_output_bytes", "max_tokens", "to_lark", "tool_call_schema"]
