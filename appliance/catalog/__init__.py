"""WHAT the Aid may do: the tool catalog. Pure domain: no I/O, no SDKs."""

from appliance.catalog.registry import DEFAULT_CATALOG, REPLY_TOOL, Catalog, describe
from appliance.catalog.spec import ToolArguments, ToolSpec

__all__ = ["DEFAULT_CATALOG", "REPLY_TOOL", "Catalog", "ToolArguments", "ToolSpec", "describe"]
