"""Rules that hold a position across bars: confidence hysteresis and the spread filter.

The position at bar ``t`` depends on the path so far (an open position is kept until a condition ends
it), so these rules run Numba kernels (:mod:`signalbench.strategies._kernels`) over rows ``0..t``; they
never read row ``t + 1``. Conventions as in :mod:`signalbench.strategies.positions`: NaN rows are flat,
NumPy in gives NumPy out, pandas in gives pandas out with the same index (``docs/architecture.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench._validation import choice, number
from signalbench.strategies._inputs import (
    as_columns,
    as_proba,
    as_values,
    check_columns,
    check_positions,
    check_same_index,
    wrap,
)
from signalbench.strategies._kernels import hysteresis_2d_nb, spread_hold_2d_nb
from signalbench.strategies.positions import check_enter, down_mid_up

__all__ = ["hysteresis", "spread_filter"]


def hysteresis(proba: Any, enter: float = 0.55, exit: float = 0.5) -> Any:  # noqa: A002
    """Enter on confidence above ``enter``; hold until confidence falls below ``exit``.

    Fewer round trips than :func:`~signalbench.strategies.threshold` at the same ``enter``: the usual
    cure for cost drag.

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    enter : float, default 0.55
        Entry confidence in ``[1/k, 1)``, as in :func:`~signalbench.strategies.threshold`.
    exit : float, default 0.5
        Holding confidence in ``[0, enter)``.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions in {-1, 0, 1}. At bar ``t``: if ``threshold`` with ``enter`` gives a
        direction, the position is that direction (an entry, a hold or a reversal); otherwise an
        open long is held while ``P(up) >= exit`` and an open short while ``P(down) >= exit``, and
        closed when its class probability falls below ``exit``. A NaN row is flat and closes the
        open position (a new entry is needed afterwards).

    Raises
    ------
    TypeError
        If ``proba`` holds non-numbers or ``enter``/``exit`` are not numbers.
    ValueError
        If ``proba`` is not a probability array, ``enter`` is outside ``[1/k, 1)``, or
        ``exit`` is not in ``[0, enter)``.

    Examples
    --------
    >>> import numpy as np
    >>> p_up = np.array([0.5, 0.6, 0.53, 0.51, 0.49, 0.53])
    >>> hysteresis(np.column_stack([1 - p_up, p_up]), enter=0.55, exit=0.5)
    array([0., 1., 1., 1., 0., 0.])
    """
    p, index, _ = as_proba(proba)
    enter = check_enter(enter, p.shape[1])
    exit_ = number(exit, "exit", low=0.0, high=enter, high_open=True, what=f"a number in [0, enter={enter:g})")
    down, mid, up = down_mid_up(p)
    pos = hysteresis_2d_nb(as_columns(down, 1), as_columns(mid, 1), as_columns(up, 1), enter, exit_)[:, 0]
    return wrap(pos, index)


def spread_filter(position: Any, spread: Any, max_spread: float, *, when_wide: str = "hold") -> Any:
    """Trade only while the quoted (or predicted) spread is below a bound.

    Parameters
    ----------
    position : array-like, pandas.Series or pandas.DataFrame
        (n,) or (n, m) target positions in [-1, 1] from another rule. NaN means no prediction: the
        target is flat on that bar whatever the spread (a NaN row means flat, never a guess), and
        ``"hold"`` holds that flat position until the next tradable bar.
    spread : array-like or pandas.Series or pandas.DataFrame
        (n,) spread per bar (shared by all columns) or (n, m) per column, in the units of
        ``max_spread``; the value at bar ``t`` must be known at ``t`` (a quote, or a model's
        prediction made at ``t``). NaN means unknown: not tradable.
    max_spread : float
        The bound, > 0: bar ``t`` is tradable when ``spread[t] < max_spread``.
    when_wide : {"hold", "flat"}, default "hold"
        What happens on a bar that is not tradable. ``"hold"``: no trade, the last position
        taken on a tradable bar is kept (flat before the first tradable bar), so a wide spread is
        never paid. ``"flat"``: the target is 0 (closing a position pays the wide spread).

    Returns
    -------
    numpy.ndarray or pandas object
        Positions with the shape (and pandas labels) of ``position``; each column is filtered
        exactly as it would be alone.

    Raises
    ------
    TypeError
        On non-numeric ``position``/``spread``/``max_spread`` or a ``when_wide`` that is not a string.
    ValueError
        On positions outside [-1, 1], a misaligned or infinite ``spread``, a non-positive
        ``max_spread``, an unknown ``when_wide`` or an unsorted time index.

    Examples
    --------
    >>> import numpy as np
    >>> pos = np.array([1.0, 1.0, -1.0, -1.0, 0.0])
    >>> spread_filter(pos, np.array([1.0, 3.0, 3.0, 1.0, 3.0]), max_spread=2.0)
    array([ 1.,  1.,  1., -1., -1.])
    """
    pos, index, columns = as_values(position, "position", ndim=(1, 2))
    check_positions(pos, "position", index)
    spr, spr_index, _ = as_values(spread, "spread", pos.shape[0], ndim=(1, 2))
    check_same_index(index, spr_index, "spread", "position")
    max_spread = number(max_spread, "max_spread", low=0.0, low_open=True)
    when_wide = choice(when_wide, "when_wide", ("hold", "flat"))
    m = pos.shape[1] if pos.ndim == 2 else 1
    check_columns(spr, m, "spread", "position")
    pos2 = as_columns(pos, m)
    missing = np.isnan(pos2)
    pos2 = np.where(missing, 0.0, pos2)
    with np.errstate(invalid="ignore"):
        tradable = (as_columns(spr, m) < max_spread) | missing
    if when_wide == "flat":
        out = np.where(tradable, pos2, 0.0)
    else:
        out = spread_hold_2d_nb(as_columns(pos2, m), as_columns(tradable, m, np.bool_))
    out = out + 0.0
    return wrap(out if pos.ndim == 2 else out[:, 0], index, columns)
