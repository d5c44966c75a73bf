"""gate room (see DESIGN.md)."""
