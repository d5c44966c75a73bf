"""cli room (see DESIGN.md)."""
