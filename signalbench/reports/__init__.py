"""signalbench.reports (see ARCHITECTURE.md)."""
