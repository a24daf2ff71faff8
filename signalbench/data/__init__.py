"""signalbench.data (see ARCHITECTURE.md)."""
