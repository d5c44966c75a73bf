"""The use cases: a person asks for a catalog call (`CatalogRequests`, any channel) -> the gate -> Graph as the
Aid -> audit; `TurnHandler` puts the local model in front of it for a Teams turn.

It reaches the world only through `appliance.ports`; `wiring` hands it the adapters.
"""

from appliance.orchestrator.cards import CardDecision, card_payload, parse_card_decision
from appliance.orchestrator.catalog_requests import Admission, Answer, CatalogRequest, CatalogRequests
from appliance.orchestrator.execution import Executor, OutboxFor, RecoveryReport
from appliance.orchestrator.handler import TurnHandler
from appliance.orchestrator.policy import AidPolicy

__all__ = [
    "Admission",
    "AidPolicy",
    "Answer",
    "CardDecision",
    "CatalogRequest",
    "CatalogRequests",
    "Executor",
    "OutboxFor",
    "RecoveryReport",
    "TurnHandler",
    "card_payload",
    "parse_card_decision",
]
