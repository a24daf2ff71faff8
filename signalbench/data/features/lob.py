"""The order-book feature sets (``lob_basic``, ``lob_levels``) of a frame: a replay of the online step kernel.

The frame's columns become the event vectors of :class:`~signalbench.data.features.lob_kernel.Layout` and
:func:`~signalbench.data.features.lob_kernel.replay_nb` steps through them, restarting at each group (day), so the
batch features are exactly what :class:`~signalbench.data.OnlineFeatures` gives event by event (docs/architecture.md,
"Online features").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from signalbench.data.features._frame import book_levels, column, frame, missing, runs
from signalbench.data.features.lob_kernel import BASIC, Layout, replay_nb

__all__ = ["LOB_SETS", "lob_inputs", "lob_set", "set_names"]

#: The feature sets the step kernel computes.
LOB_SETS = ("lob_basic", "lob_levels")


def set_names(sets: Sequence[str], levels: int) -> tuple[str, ...]:
    """Column names of ``sets`` combined as :func:`compute_features` combines them (a shared name kept once)."""
    names: list[str] = []
    for name in sets:
        if name == "lob_basic":
            own = list(BASIC)
        else:
            own = [f"depth_imbalance_{i}" for i in range(1, levels + 1)]
            own += [f"ofi_l{i}_sum_10" for i in range(1, levels + 1)]
        names += [n for n in own if n not in names]
    return tuple(names)


def _trade_columns(df: pd.DataFrame, what: str) -> list[np.ndarray]:
    """``type, size, direction``; synthetic ``trade_sign, volume`` as executions (type 4) of direction -sign."""
    if {"type", "size", "direction"} <= set(df.columns):
        return [column(df, name, what) for name in ("type", "size", "direction")]
    if {"trade_sign", "volume"} <= set(df.columns):
        sign, volume = column(df, "trade_sign", what), column(df, "volume", what)
        return [np.full(len(df), 4.0), volume, -sign]
    raise missing(df, "LOBSTER message columns 'type', 'size', 'direction' or synthetic columns 'trade_sign', 'volume'")


def lob_inputs(df: pd.DataFrame, layout: Layout, what: str) -> np.ndarray:
    """The frame's events as a C-contiguous float64 matrix (fields, n): one row per field of ``layout.fields``."""
    book = [column(df, name, what) for name in layout.fields[3:]]
    X = np.empty((len(layout.fields), len(df)))
    for j, values in enumerate(_trade_columns(df, what) + book):
        X[j] = values
    return X


def lob_set(df: pd.DataFrame, name: str, groups) -> dict[str, np.ndarray]:
    """Feature set ``name`` (one of :data:`LOB_SETS`) of ``df`` for every level present, by replaying the kernel.

    Parameters
    ----------
    df : pandas.DataFrame
        Book in the LOBSTER column format (or synthetic ticks), in time order.
    name : str
        ``"lob_basic"`` or ``"lob_levels"``.
    groups : array-like, Runs or None
        Groups (days) the state restarts at.

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 column per feature, in the set's order.
    """
    frame(df, name)
    levels = book_levels(df)
    if levels == 0:
        if name == "lob_levels":
            raise missing(df, "book columns ask_price_1, ask_size_1, bid_price_1, bid_size_1 (needed by 'lob_levels')")
        levels = 1  # reading the level-1 columns names the first one missing
    layout = Layout(levels, basic=name == "lob_basic")
    X = lob_inputs(df, layout, name)  # read first: a missing or non-numeric column is named before anything runs
    names = set_names([name], levels)
    sel = np.array([layout.index(n) for n in names], dtype=np.int64)
    state = layout.new_state()
    out = np.empty((len(names), len(df)))
    replay_nb(
        X,
        runs(groups, len(df)),
        out,
        sel,
        layout.basic,
        layout.slots,
        state["ring"],
        state["acc"],
        state["cnt"],
        state["prev"],
        np.empty(layout.n_full),
        np.empty(len(layout.fields)),
    )
    return dict(zip(names, out, strict=True))
