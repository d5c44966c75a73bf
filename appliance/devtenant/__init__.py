"""devtenant room (see DESIGN.md)."""
