"""Mutation testing of the guards: the report over mutmut's results (see docs/TESTING.md)."""
