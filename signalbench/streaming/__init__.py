"""Streaming inference (issue 12); see ``docs/architecture.md``, "Streaming"."""
