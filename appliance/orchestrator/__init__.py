"""The one use case: a Teams turn -> the model's tool call -> the gate -> Graph as the Aid -> audit -> reply.

It reaches the world only through `appliance.ports`; `wiring` hands it the adapters.
"""

from appliance.orchestrator.cards import CardDecision, card_payload, parse_card_decision
from appliance.orchestrator.execution import Executor, OutboxFor, RecoveryReport
from appliance.orchestrator.handler import TurnHandler
from appliance.orchestrator.policy import AidPolicy

__all__ = [
    "AidPolicy",
    "CardDecision",
    "Executor",
    "OutboxFor",
    "RecoveryReport",
    "TurnHandler",
    "card_payload",
    "parse_card_decision",
]
