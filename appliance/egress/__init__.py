"""egress room (see DESIGN.md)."""
