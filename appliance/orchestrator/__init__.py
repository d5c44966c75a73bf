"""The channel-free use case: a person's message -> the model's tool call -> the gate -> Graph as the Aid
-> audit -> reply. Teams (and any later channel) calls `TurnHandler.handle_turn`.

It reaches the world only through `appliance.ports`; `wiring` hands it the adapters.
"""

from appliance.orchestrator.execution import Executor, RecoveryReport
from appliance.orchestrator.handler import ANSWERED_IN_THE_APPLIANCE, TurnHandler
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import OutboxFor

__all__ = ["ANSWERED_IN_THE_APPLIANCE", "AidPolicy", "Executor", "OutboxFor", "RecoveryReport", "TurnHandler"]
