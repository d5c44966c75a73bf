"""aidizen appliance: a per-tenant M365 admin Aid with a grammar-constrained local model.

Read DESIGN.md (shared with the team) and README.md for the rooms and the direction of imports.
"""

__version__ = "0.1.0"
