"""signalbench.strategies (see ARCHITECTURE.md)."""
