"""WHAT the Aid may do: the tool catalog. Pure domain: no I/O, no SDKs."""

from appliance.catalog.registry import DEFAULT_CATALOG, REPLY_TOOL, Catalog, describe
from appliance.catalog.spec import ToolArguments, ToolSpec
from appliance.catalog.tools.audit import AUDIT_QUERY_TOOL

__all__ = ["AUDIT_QUERY_TOOL", "DEFAULT_CATALOG", "REPLY_TOOL", "Catalog", "ToolArguments", "ToolSpec", "describe"]
