"""Progress of a graph run: per kind of task, how many wait, run, are done, cached, failed or skipped.

:class:`Progress` counts; with ``show=True`` it draws one ``rich`` Live table on standard error, refreshed a few times
a second. Without it, it only counts (and draws nothing).
"""

from __future__ import annotations

import sys
from collections import Counter

__all__ = ["Progress"]

STATES = ("waiting", "running", "done", "cached", "failed", "skipped")
_SHOWN = ("done", "running", "failed", "cached", "skipped", "waiting")


class Progress:
    """Counts of tasks per (kind, state); a rich Live display when ``show``."""

    def __init__(self, kinds: list[str], *, show: bool = False) -> None:
        self.counts: dict[str, Counter] = {}
        for kind in kinds:
            self.counts.setdefault(kind, Counter())["waiting"] += 1
        self.show = show
        self._live = None

    def __enter__(self) -> Progress:
        if self.show:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=sys.stderr), refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*exc)
            self._live = None

    def move(self, kind: str, old: str, new: str) -> None:
        """One task of ``kind`` goes from state ``old`` to ``new`` (``old`` "running" also takes a waiting one)."""
        counts = self.counts[kind]
        if counts[old] == 0 and old == "running":
            old = "waiting"
        counts[old] -= 1
        counts[new] += 1
        if self._live is not None:
            self._live.update(self._table())

    def log(self, text: str) -> None:
        """A line above the table (a failure)."""
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)

    def _table(self):
        from rich.table import Table

        table = Table(title="tasks", title_justify="left")
        table.add_column("kind")
        for state in _SHOWN:
            table.add_column(state, justify="right")
        for kind, counts in self.counts.items():
            table.add_row(kind, *(str(counts[s]) for s in _SHOWN))
        return table
