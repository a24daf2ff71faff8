"""Reading feature inputs: frames in time order, their numeric columns, book levels and per-row groups."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import did_you_mean, expected, integer, numeric_array
from signalbench.data._inputs import Runs, group_ids, in_time_order, series

__all__ = ["book_levels", "column", "frame", "frame_groups", "missing", "runs", "series", "window"]


def frame(df: Any, what: str) -> pd.DataFrame:
    """``df`` itself when it is a DataFrame in time order; ``TypeError`` (naming ``what``) for anything else."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(expected("df", f"a pandas DataFrame (the input of {what})", df))
    in_time_order(df, "df")
    return df


def _columns_text(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    return "columns " + ", ".join(cols[:12]) + (f", ... ({len(cols)} columns)" if len(cols) > 12 else "")


def missing(df: pd.DataFrame, needed: str, hint: str = "") -> ValueError:
    """The error for a frame that lacks the columns a feature needs: ``"df: expected <needed>, got columns ..."``."""
    return ValueError(expected("df", needed, _columns_text(df), raw=True) + hint)


def column(df: Any, name: str, what: str) -> np.ndarray:
    """Column ``name`` of ``df`` as contiguous float64; a missing column or one that holds no numbers is named."""
    frame(df, what)
    if name not in df.columns:
        raise missing(df, f"a column {name!r} (needed by {what})", did_you_mean(name, df.columns))
    arr, _, _ = numeric_array(df[name], "df", ndim=(1,), allow_inf=True)
    return np.ascontiguousarray(arr)


def window(value: Any, name: str = "window") -> int:
    """A window length, level or horizon: an integer >= 1."""
    return integer(value, name, minimum=1)


def runs(groups: Any, n: int) -> np.ndarray:
    """Run id per row of the groups of ``n`` rows, for the kernels."""
    return group_ids(groups, n)


def frame_groups(df: pd.DataFrame, groups: Any) -> Any:
    """Resolve ``groups`` of a frame: a column name (``"day"`` may be absent: one group), labels, or None."""
    if isinstance(groups, str):
        if groups in df.columns:
            return df[groups]
        if groups == "day":
            return None
        raise ValueError(
            expected("groups", "a column of df (or labels, or None)", repr(groups), raw=True)
            + did_you_mean(groups, df.columns)
        )
    if groups is not None and not isinstance(groups, Runs) and np.ndim(groups) == 0:
        raise TypeError(expected("groups", "a column name, one label per row, or None", groups))
    return groups


def book_levels(df: pd.DataFrame) -> int:
    """Number of book levels present: the largest ``L`` with all four ``*_price_i``/``*_size_i`` columns, i <= L.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame in the LOBSTER column format.

    Returns
    -------
    int
        0 when even level 1 is missing.
    """
    frame(df, "book_levels")
    level = 0
    while all(f"{side}_{kind}_{level + 1}" in df.columns for side in ("ask", "bid") for kind in ("price", "size")):
        level += 1
    return level
