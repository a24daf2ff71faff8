"""Progress of a graph run: per kind of task, how many are done, running, failed, cached, skipped or waiting.

:class:`Progress` keeps each task's state; with ``show=True`` it draws one ``rich`` Live table on standard error
(refreshed a few times a second) and prints each failure above it. Without it, it only counts.
"""

from __future__ import annotations

import sys
from collections import Counter

__all__ = ["STATES", "Progress"]

STATES = ("done", "running", "failed", "cached", "skipped", "waiting")


class Progress:
    """The state of every task, counted per kind; a rich Live display when ``show``.

    Parameters
    ----------
    kinds : dict of str to str
        Key -> kind of every task of the graph (all start "waiting").
    show : bool
        Draw the table on standard error.
    """

    def __init__(self, kinds: dict[str, str], *, show: bool = False) -> None:
        self.kinds = dict(kinds)
        self.state = dict.fromkeys(kinds, "waiting")
        self.counts: dict[str, Counter] = {}
        for kind in kinds.values():
            self.counts.setdefault(kind, Counter())["waiting"] += 1
        self.show = show
        self._live = None

    def __enter__(self) -> Progress:
        if self.show:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=sys.stderr)
            self._live = Live(self.table(), console=console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self.table(), refresh=True)
            self._live.__exit__(*exc)
            self._live = None

    def set(self, key: str, state: str) -> None:
        """Task ``key`` is now in ``state`` (one of :data:`STATES`)."""
        counts = self.counts[self.kinds[key]]
        counts[self.state[key]] -= 1
        counts[state] += 1
        self.state[key] = state
        if self._live is not None:
            self._live.update(self.table())

    def log(self, text: str) -> None:
        """A line above the table (a failure)."""
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def table(self):
        """The rich Table: one row per kind of task, one column per state."""
        from rich.table import Table

        table = Table(title="tasks", title_justify="left")
        table.add_column("kind")
        for state in STATES:
            table.add_column(state, justify="right")
        for kind, counts in self.counts.items():
            table.add_row(kind, *(str(counts[s]) for s in STATES))
        return table
