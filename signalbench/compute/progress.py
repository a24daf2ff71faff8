"""Progress of a graph run: per kind of task, how many are done, running, failed, cached, skipped or waiting.

:class:`Progress` keeps each task's state; with ``show=True`` it draws one ``rich`` Live table on standard error
(refreshed a few times a second) and prints each failure above it. Without it, it only counts. Below the table, a
bar for each running task that sends progress events (:mod:`signalbench.compute.events`: the epochs of a fit, where
the executor delivers them), named by the task's tags (``model lstm, fold 1, group all: 3/10  train_loss ...``).
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
    labels : dict of str to str, optional
        Key -> what a task's bar is called (its tags); the kind and key when missing.
    """

    def __init__(self, kinds: dict[str, str], *, show: bool = False, labels: dict[str, str] | None = None) -> None:
        self.kinds = dict(kinds)
        self.labels = dict(labels or {})
        self.bars: dict[str, dict] = {}  # key -> the last progress event of a running task
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
            self._live = Live(self.renderable(), console=console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self.renderable(), refresh=True)
            self._live.__exit__(*exc)
            self._live = None

    def set(self, key: str, state: str) -> None:
        """Task ``key`` is now in ``state`` (one of :data:`STATES`)."""
        counts = self.counts[self.kinds[key]]
        counts[self.state[key]] -= 1
        counts[state] += 1
        self.state[key] = state
        if state != "running":
            self.bars.pop(key, None)
        self._redraw()

    def event(self, event: dict) -> None:
        """A running task's progress event (``key``, ``done``, ``total``, ``info``): its bar. Others are ignored."""
        if self.state.get(event.get("key")) != "running":
            return  # late (the task has ended) or not of this graph
        self.bars[event["key"]] = event
        self._redraw()

    def _redraw(self) -> None:
        if self._live is not None:
            self._live.update(self.renderable())

    def log(self, text: str) -> None:
        """A line above the table (a failure)."""
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def renderable(self):
        """The table, and below it a bar per running task that reports its progress."""
        if not self.bars:
            return self.table()
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        bars = Table.grid(padding=(0, 1))
        for key, e in self.bars.items():
            name = self.labels.get(key) or f"{self.kinds[key]} {key[:8]}"
            total = max(1, e["total"])
            bar = ProgressBar(total=total, completed=min(e["done"], total), width=24)
            bars.add_row(name, bar, f"{e['done']}/{e['total']}", e.get("info", ""))
        return Group(self.table(), bars)

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
