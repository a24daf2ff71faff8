"""signalbench.signals (see ARCHITECTURE.md)."""
