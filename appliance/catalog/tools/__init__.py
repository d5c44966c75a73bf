"""The catalog's tools, one module per Graph area. `ALL_TOOLS` is the whole catalog, in prompt order."""

from appliance.catalog.spec import ToolSpec
from appliance.catalog.tools import audit, groups, licenses, pending, reply, security, users

_AREAS: tuple[ToolSpec, ...] = (
    *reply.TOOLS,
    *users.TOOLS,
    *licenses.TOOLS,
    *groups.TOOLS,
    *security.TOOLS,
)
ALL_TOOLS: tuple[ToolSpec, ...] = (*_AREAS, audit.audit_query_tool(_AREAS), *pending.TOOLS)
