"""teams room (see DESIGN.md)."""
