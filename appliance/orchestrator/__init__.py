"""The use cases: a person asks for a catalog call (`CatalogRequests`, any channel: Teams, MCP, later ones)
-> the gate -> Graph as the Aid -> audit; `TurnHandler` puts the local model in front of it for a Teams
message.

It reaches the world only through `appliance.ports`; `wiring` hands it the adapters.
"""

from appliance.orchestrator.catalog_requests import Answer, CatalogRequest, CatalogRequests, RequesterAdmission
from appliance.orchestrator.execution import Executor, RecoveryReport
from appliance.orchestrator.handler import ANSWERED_IN_THE_APPLIANCE, TurnHandler
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import OutboxFor

__all__ = ["ANSWERED_IN_THE_APPLIANCE", "AidPolicy", "Answer", "CatalogRequest", "CatalogRequests", "Executor",
           "OutboxFor", "RecoveryReport", "RequesterAdmission", "TurnHandler"]
