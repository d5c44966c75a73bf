"""The orchestrator's unit fixtures (real SQLCipher ledger, scripted model, fake Graph) for the MCP tests."""

from tests.unit.orchestrator.conftest import aid, store

__all__ = ["aid", "store"]
