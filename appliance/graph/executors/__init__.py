"""One executor per catalog tool that calls Graph. `execute` is the only entry point.

Tools with `runs_on_graph = False` (`reply`, `m365_audit_query`) have none: the appliance answers them
itself. `appliance serve` refuses to start when an enabled Graph tool has no entry in `EXECUTORS`
(`wiring/catalog_check.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appliance.catalog import DEFAULT_CATALOG
from appliance.graph.executors import groups, licenses, security, users
from appliance.graph.executors.common import Executor, Refused, failure, uncertain
from appliance.graph.gateway import ExecutionResult, GraphCallFailed, GraphGateway, GraphWriteUncertain

EXECUTORS: dict[str, Executor] = {
    "m365_user_get": users.user_get,
    "m365_user_search": users.user_search,
    "m365_user_disable": users.user_disable,
    "m365_user_enable": users.user_enable,
    "m365_sessions_revoke": users.sessions_revoke,
    "m365_password_reset": users.password_reset,
    "m365_user_update": users.user_update,
    "m365_license_list": licenses.license_list,
    "m365_license_assign": licenses.license_assign,
    "m365_license_remove": licenses.license_remove,
    "m365_group_members": groups.group_members,
    "m365_group_add_member": groups.group_add_member,
    "m365_group_remove_member": groups.group_remove_member,
    "m365_mfa_methods_list": security.mfa_methods_list,
    "m365_signins_recent": security.signins_recent,
}


class GraphTools:
    """Implements `ports.ToolRunner`: every catalog tool with an executor, as the Aid."""

    def __init__(self, gateway: GraphGateway) -> None:
        self.gateway = gateway

    async def run(self, tool: str, arguments: Mapping[str, Any], client_request_id: str) -> ExecutionResult:
        """Run `tool`'s executor; Graph failures come back as `failed`, never as exceptions."""
        return await execute(self.gateway, tool, dict(arguments), client_request_id)


async def execute(gw: GraphGateway, tool: str, arguments: dict[str, Any], client_request_id: str) -> ExecutionResult:
    """Run the tool's executor as the Aid. The caller has recorded `client_request_id` before this call.

    A write whose answer was lost (or was a 5xx) comes back `unknown`: it was sent once and is never sent
    again; the caller settles it from the directory audit log."""
    keys = DEFAULT_CATALOG[tool].target_keys
    target = (arguments.get(keys[0]) if keys else None) or "that object"
    try:
        return await EXECUTORS[tool](gw, arguments, client_request_id)
    except Refused as exc:
        return ExecutionResult(tool, "refused", client_request_id, message=str(exc))
    except GraphWriteUncertain as exc:
        return uncertain(tool, client_request_id, exc, target)
    except GraphCallFailed as exc:
        return failure(tool, client_request_id, exc, target)
