"""``BacktestResult.plot()``: equity and drawdown of every column against the benchmarks (oracles, buy-and-hold).

Drawn with matplotlib's object API (``matplotlib.figure.Figure``): no pyplot state, no global backend or font change;
the figure shows in a notebook and saves with ``fig.savefig``. matplotlib's path simplification thins long lines;
the run report (:mod:`signalbench.reports.plots`) downsamples explicitly. See ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import expected

__all__ = ["plot_result"]

_BENCH_STYLE = {"oracle": ("black", "--"), "naive_oracle": ("grey", "--"), "buy_and_hold": ("darkgoldenrod", ":")}


def _frame(values: Any) -> pd.DataFrame:
    return values if isinstance(values, pd.DataFrame) else pd.DataFrame(np.asarray(values))


def plot_result(result: Any, columns: list[Any] | None = None) -> Any:
    """Equity (top) and drawdown (bottom) of ``columns`` (default: all), benchmarks dashed; returns the Figure."""
    import matplotlib
    from matplotlib.figure import Figure

    equity, drawdown = _frame(result.equity), _frame(result.drawdown)
    chosen = list(equity.columns) if columns is None else list(columns)
    missing = [c for c in chosen if c not in equity.columns]
    if missing:
        raise ValueError(expected("columns", f"labels among {list(equity.columns)}", missing))
    bench = set(result.benchmarks)
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}):
        fig = Figure(figsize=(9.0, 6.0), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        for k, col in enumerate(chosen):
            color, ls = _BENCH_STYLE.get(str(col), (f"C{k % 10}", "--" if col in bench else "-"))
            top.plot(equity.index, equity[col].to_numpy(), color=color, linestyle=ls, lw=1.0, label=str(col))
            bottom.plot(drawdown.index, drawdown[col].to_numpy(), color=color, linestyle=ls, lw=1.0)
        top.set(ylabel=f"equity ({result.mode})", title="equity against the oracles and buy-and-hold")
        bottom.set(ylabel="drawdown", title="drawdown")
        top.legend(fontsize=7, ncol=3)
    return fig
