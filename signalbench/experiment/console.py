"""What the user sees while an experiment runs: rich progress bars and, at the end, the summary table.

Progress goes to standard error (so a piped summary stays clean); the summary table to standard output. With
``enabled=False`` (tests, library use) nothing is printed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["Reporter", "epoch_info", "pieces_table", "pooled_table", "summary_table"]


class Reporter:
    """Progress bars for the steps of a run (a spinner for a step, a bar with losses for each model's epochs)."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None

    def __enter__(self) -> Reporter:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[info]}"),
                console=self.console,
                transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """A step shown as a spinner (``total=None``) or a bar; yields ``advance(k)``."""
        if self._progress is None:
            yield lambda k=1: None
            return
        task = self._progress.add_task(description, total=total, info="")
        try:
            yield lambda k=1: self._progress.advance(task, k) if self._progress else None
        finally:
            if self._progress is not None:
                done = self._progress.tasks[task].completed if total else 1
                self._progress.update(task, total=total or 1, completed=total or done)

    def epochs(self, name: str, total: int) -> tuple[Callable[[int, dict[str, float]], None], Callable[[], None]]:
        """A bar over a model's epochs; returns ``(callback, close)``; the callback shows train and val loss."""
        if self._progress is None:
            return (lambda epoch, metrics: None), (lambda: None)
        progress = self._progress
        task = progress.add_task(f"fit {name}", total=total, info="")

        def callback(epoch: int, metrics: dict[str, float]) -> None:
            progress.update(task, completed=epoch, info=epoch_info(metrics))  # epochs count from 1

        def close() -> None:
            t = progress.tasks[task]
            progress.update(task, total=t.completed or 1, completed=t.completed or 1)

        return callback, close


def epoch_info(metrics: dict[str, float]) -> str:
    """An epoch's losses as a progress bar shows them (``train_loss 0.6931  val_loss 0.6925``; missing ones out)."""
    parts = []
    for key in ("train_loss", "val_loss", "val_accuracy"):
        v = metrics.get(key)
        if v is not None and np.isfinite(v):
            parts.append(f"{key} {v:.4f}")
    return "  ".join(parts)


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "-")
    return format(v, spec)


#: Columns of the summary table: (metric key, header, format).
SUMMARY = (
    ("macro_f1", "macro-F1", ".3f"),
    ("total_return_additive", "net return", "+.4f"),
    ("sharpe", "Sharpe", ".2f"),
    ("signal_efficiency", "efficiency", "+.3f"),
    ("breakeven_cost_bps", "breakeven bps", ".3f"),
    ("n_trades", "trades", ",.0f"),
)


def summary_table(columns: dict[str, dict[str, Any]], benchmarks: list[str], title: str) -> Table:
    """The end-of-run table: one row per column (model x strategy), benchmarks set apart below a rule."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("column", no_wrap=True)
    for _, header, _ in SUMMARY:
        table.add_column(header, justify="right")
    trials = [c for c in columns if c not in benchmarks]
    for i, name in enumerate([*trials, *benchmarks]):
        row = columns[name]
        cells = [_fmt(row.get(key), spec) for key, _, spec in SUMMARY]
        label = f"[dim]{name} (benchmark)[/dim]" if name in benchmarks else name
        table.add_row(label, *cells, end_section=(i == len(trials) - 1 and bool(benchmarks)))
    return table


def _cell(row: dict[str, Any] | None) -> str:
    """``net return / signal efficiency / macro-F1`` of one column in one symbol's or day's block."""
    if row is None:
        return "-"
    parts = [_fmt(row.get("net_return"), "+.4f"), _fmt(row.get("signal_efficiency"), "+.3f")]
    if row.get("macro_f1") is not None:
        parts.append(_fmt(row.get("macro_f1"), ".3f"))
    return " / ".join(parts)


def pieces_table(
    block: dict[str, dict[str, dict]], pooled: dict[str, dict], what: str, title: str, benchmarks: list[str] = ()
) -> Table:
    """A ``what`` (symbol or day) x column table of a multi-piece run, with the pooled figures.

    Each cell reads ``net return / signal efficiency / macro-F1`` (macro-F1 for model columns only). The longer of
    the two lists runs down the rows, so that a few symbols and many model x strategy columns (or many days and a
    few columns) stay readable at any terminal width: the table is transposed when there are more columns than
    symbols (or days). Model x strategy columns come first, the ``benchmarks`` last.
    """
    columns = [c for c in pooled if c not in benchmarks] + [b for b in benchmarks if b in pooled]
    names = list(block)
    if len(columns) <= len(names):
        return _grid(title, what, names + ["pooled"], columns, lambda r, c: _cell(_figure(block, pooled, r, c)))
    return _grid(title, "column", columns, names + ["pooled"], lambda r, c: _cell(_figure(block, pooled, c, r)))


def _figure(block: dict[str, dict[str, dict]], pooled: dict[str, dict], name: str, col: str) -> dict | None:
    return pooled.get(col) if name == "pooled" else block[name].get(col)


def _grid(title: str, corner: str, rows: list[str], cols: list[str], cell) -> Table:
    """A table of ``cell(row, col)``; a ``pooled`` row or column is set apart (bold, after a rule)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(corner, no_wrap=True)
    for c in cols:
        table.add_column(f"[bold]{c}[/bold]" if c == "pooled" else c, justify="right")
    for i, r in enumerate(rows):
        last = i + 2 == len(rows) and rows[-1] == "pooled"
        table.add_row("[bold]pooled[/bold]" if r == "pooled" else r, *[cell(r, c) for c in cols], end_section=last)
    return table


#: Columns of the pooled table of a multi-piece run: (key, header, format).
POOLED = (
    ("macro_f1", "macro-F1", ".3f"),
    ("net_return", "net return", "+.4f"),
    ("sharpe", "daily Sharpe", ".2f"),
    ("max_drawdown", "max drawdown", "+.4f"),
    ("deflated_sharpe", "deflated Sharpe", ".3f"),
    ("signal_efficiency", "efficiency", "+.3f"),
)


def pooled_table(pooled: dict[str, dict], benchmarks: list[str], title: str) -> Table:
    """The pooled figures of a multi-piece run on its daily clock, one row per column, benchmarks below a rule."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("column", no_wrap=True)
    for _, header, _ in POOLED:
        table.add_column(header, justify="right")
    trials = [c for c in pooled if c not in benchmarks]
    for i, name in enumerate([*trials, *[b for b in benchmarks if b in pooled]]):
        cells = [_fmt(pooled[name].get(key), spec) for key, _, spec in POOLED]
        label = f"[dim]{name} (benchmark)[/dim]" if name in benchmarks else name
        table.add_row(label, *cells, end_section=(i == len(trials) - 1 and bool(benchmarks)))
    return table
