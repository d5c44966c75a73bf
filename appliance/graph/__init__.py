"""graph room (see DESIGN.md)."""
