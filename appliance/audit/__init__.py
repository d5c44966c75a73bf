"""audit room (see DESIGN.md)."""
