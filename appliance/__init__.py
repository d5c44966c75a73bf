"""aidizen appliance: a per-tenant M365 admin Aid with a grammar-constrained local model.

Read docs/ARCHITECTURE.md for the rooms, the direction of imports and the main flows.
"""

__version__ = "0.1.0"
