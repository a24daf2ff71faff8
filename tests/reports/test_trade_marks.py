"""The trade marks of the zoomed price chart: each round trip's entry and exit at the rows the engine opened and
closed it, in the window shown, drawn on the price."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from signalbench.reports import plots
from signalbench.reports.round_trips import records, window_marks

matplotlib.use("Agg")


def _run(targets: dict[str, list[float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """positions.parquet and returns.parquet of a run with no delay: gross = held exposure x price move."""
    n = len(next(iter(targets.values())))
    price = 100.0 + np.arange(n) * 0.5
    positions = pd.DataFrame(targets)
    move = pd.Series(price).pct_change().fillna(0.0).to_numpy()
    returns = pd.DataFrame({"price": price})
    for c, p in targets.items():
        e = np.asarray(p, dtype=float).copy()
        e[-1] = 0.0  # closed at the end
        held = np.concatenate([[0.0], e[:-1]]) * move
        returns[c] = held
        returns[f"gross:{c}"] = held
    return positions, returns


def test_marks_are_the_entries_and_exits_inside_the_window():
    # a: long on rows 1-2 (exit 3), short on rows 4-5 (exit 6); b: long from row 2, a reversal to short at 5
    positions, returns = _run({"a": [0, 1, 1, 0, -1, -1, 0, 0, 0, 0], "b": [0, 0, 1, 1, 1, -1, -1, -1, 0, 0]})
    frame = records(positions, returns, ["a", "b"], {"delay": 0})
    marks = window_marks(frame, ["a", "b"], ["a", "b"], 2, 8)  # rows 2..7: a's first entry (row 1) left out
    got = sorted(map(tuple, marks[["name", "row", "kind", "side"]].itertuples(index=False)))
    expected = [
        ("a", 1, "exit", 1),  # row 3 - 2
        ("a", 2, "entry", -1),
        ("a", 4, "exit", -1),
        ("b", 0, "entry", 1),
        ("b", 3, "entry", -1),  # the reversal: one exit and one entry on the same row
        ("b", 3, "exit", 1),
    ]  # b's exit on row 8 is past the window (rows 2..7)
    assert got == sorted(expected)
    assert window_marks(frame, ["a", "b"], ["b"], 2, 8)["name"].eq("b").all()
    assert window_marks("no model column", ["a"], ["a"], 0, 5) is None


def test_the_zoomed_figure_draws_each_mark_on_the_price():
    positions, returns = _run({"a": [0, 1, 1, 0, -1, -1, 0, 0]})
    frame = records(positions, returns, ["a"], {"delay": 0})
    marks = window_marks(frame, ["a"], ["a"], 0, 8)
    x = np.arange(8)
    fig = plots.zoom_figure(x, returns["price"].to_numpy(), positions, returns[["a"]], marks)
    points = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    expected = {(1.0, 100.5), (3.0, 101.5), (4.0, 102.0), (6.0, 103.0)}  # (row, price) of entries and exits
    assert {tuple(map(float, p)) for p in points} == expected
    bare = plots.zoom_figure(x, returns["price"].to_numpy(), positions, returns[["a"]])
    assert len(bare.axes[0].collections) == 0
