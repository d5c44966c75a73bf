"""engine room (see DESIGN.md)."""
