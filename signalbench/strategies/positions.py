"""Bar-by-bar probability rules: (n, k) class probabilities -> target positions in [-1, 1], NumPy only.

Every rule takes model outputs whose row ``t`` is the prediction made at bar ``t`` (NaN rows during
warm-up) and returns the target position decided at bar ``t`` from row ``t`` only, ready for
:func:`signalbench.engine.backtest` without any shifting. A NaN input row means flat, never a guess.
Rules whose position depends on the path so far (:func:`~signalbench.strategies.hysteresis`,
:func:`~signalbench.strategies.spread_filter`, :func:`~signalbench.strategies.rules`) live in
:mod:`signalbench.strategies.holding` and :mod:`signalbench.strategies.trade_rules`.

Class probabilities are (n, k) arrays: k=2 columns ``[down, up]``, k=3 columns
``[down, stationary, up]``. NumPy in gives NumPy out; a pandas DataFrame in gives a pandas Series out with
the same index (a time index must be sorted). This module imports NumPy, pandas and the input checks only:
no Numba, no SciPy, nothing from the engine (``docs/architecture.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench._validation import number
from signalbench.strategies._inputs import as_proba, wrap

__all__ = ["sign", "size_by_confidence", "threshold"]


def down_mid_up(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split (n, k) probabilities into down, stationary (zeros when k=2) and up columns."""
    if p.shape[1] == 2:
        return p[:, 0], np.zeros(p.shape[0]), p[:, 1]
    return p[:, 0], p[:, 1], p[:, 2]


def check_enter(enter: Any, k: int) -> float:
    """The confidence level ``enter`` of a k-class rule: a number in ``[1/k, 1)``."""
    return number(enter, "enter", low=1.0 / k, high=1.0, high_open=True)


def winner_direction(p: np.ndarray, enter: float) -> np.ndarray:
    """+1/-1 where up/down is the strict most likely class with probability > enter, else 0."""
    down, mid, up = down_mid_up(p)
    with np.errstate(invalid="ignore"):
        long_ = (up > enter) & (up > down) & (up > mid)
        short = (down > enter) & (down > up) & (down > mid)
    return long_.astype(np.float64) - short.astype(np.float64)


def sign(proba: Any) -> Any:
    """Long when up is more likely than down, short otherwise.

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities, k=2 ``[down, up]`` or k=3 ``[down, stationary, up]``;
        all-NaN rows during warm-up.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions in {-1, 0, 1}: ``+1`` when ``P(up) > P(down)``, ``-1`` otherwise (a tie
        ``P(up) == P(down)`` is short, the usual ``P(up) <= 0.5 -> short`` of a two-class model). With
        three classes the position is ``0`` when the stationary class is the most likely (ties with it
        included). NaN rows give ``0``.

    Raises
    ------
    TypeError
        If ``proba`` holds strings, datetimes or other non-numbers.
    ValueError
        If ``proba`` is not an (n, 2) or (n, 3) array of probabilities, or its time index is unsorted.

    Examples
    --------
    >>> import numpy as np
    >>> sign(np.array([[0.4, 0.6], [0.5, 0.5], [np.nan, np.nan]]))
    array([ 1., -1.,  0.])
    """
    p, index, _ = as_proba(proba)
    down, mid, up = down_mid_up(p)
    with np.errstate(invalid="ignore"):
        pos = np.where(up > down, 1.0, -1.0)
        if p.shape[1] == 3:
            pos[mid >= np.maximum(down, up)] = 0.0
    pos[np.isnan(up)] = 0.0
    return wrap(pos, index)


def threshold(proba: Any, enter: float = 0.55) -> Any:
    """Trade only when the winning class is confident enough (a confidence filter).

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    enter : float, default 0.55
        Confidence level in ``[1/k, 1)``.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions: ``+1`` when up is the strictly most likely class and ``P(up) > enter``,
        ``-1`` when down is and ``P(down) > enter``, ``0`` otherwise (including a winning
        stationary class, ties for the top and NaN rows).

    Raises
    ------
    TypeError
        If ``proba`` holds non-numbers or ``enter`` is not a number.
    ValueError
        If ``proba`` is not a probability array or ``enter`` is outside ``[1/k, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> threshold(np.array([[0.3, 0.7], [0.48, 0.52], [0.6, 0.4]]), enter=0.55)
    array([ 1.,  0., -1.])
    """
    p, index, _ = as_proba(proba)
    enter = check_enter(enter, p.shape[1])
    return wrap(winner_direction(p, enter), index)


def size_by_confidence(proba: Any, *, scale: float = 1.0, min_edge: float = 0.0) -> Any:
    """Exposure proportional to the edge ``P(up) - P(down)``, capped at 1 in absolute value.

    With ``scale=1`` and two classes this is the Kelly fraction of an even-money bet
    (``p - q = 2 P(up) - 1``).

    Parameters
    ----------
    proba : array-like or pandas.DataFrame
        (n, k) class probabilities (k=2 ``[down, up]``, k=3 ``[down, stationary, up]``).
    scale : float, default 1.0
        Exposure per unit of edge, > 0; the result is clipped to [-1, 1].
    min_edge : float, default 0.0
        Dead zone in ``[0, 1)``: bars with ``|P(up) - P(down)| <= min_edge`` are flat.

    Returns
    -------
    numpy.ndarray or pandas.Series
        (n,) positions ``clip(scale * (P(up) - P(down)), -1, 1)`` outside the dead zone, ``0``
        inside it and on NaN rows.

    Raises
    ------
    TypeError
        If ``proba`` holds non-numbers or ``scale``/``min_edge`` are not numbers.
    ValueError
        If ``proba`` is not a probability array or ``scale``/``min_edge`` are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> size_by_confidence(np.array([[0.2, 0.8], [0.55, 0.45], [0.5, 0.5]]), scale=2.0)
    array([ 1. , -0.2,  0. ])
    """
    p, index, _ = as_proba(proba)
    scale = number(scale, "scale", low=0.0, low_open=True)
    min_edge = number(min_edge, "min_edge", low=0.0, high=1.0, high_open=True)
    down, _, up = down_mid_up(p)
    edge = up - down
    pos = np.clip(scale * edge, -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        pos[~(np.abs(edge) > min_edge)] = 0.0  # dead zone and NaN rows
    pos += 0.0  # no negative zeros
    return wrap(pos, index)
