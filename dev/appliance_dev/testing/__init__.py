"""testing room (see DESIGN.md)."""
