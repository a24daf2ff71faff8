"""Walk-forward evaluation: refit on the past, predict the next block, stitch, backtest once.

Each fold's model is created fresh by ``model_factory()``, fitted on the rows before the fold's test block only
(the purge gap of :func:`signalbench.data.splits.walk_forward` keeps every training label window clear of the
test rows), and predicts the test block using, as context, the ``seq_len - 1`` rows just before it (past rows:
a prediction at t still uses rows up to t only). The out-of-sample probabilities of all folds are stitched into
one ``(n, k)`` array (NaN outside the test blocks), turned into positions by ``strategy`` (NaN rows are flat)
and priced by one :func:`signalbench.engine.backtest` call, so every fold pays the same costs and the equity
curve is continuous.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from signalbench.engine.backtest import BacktestResult, backtest


@dataclass
class WalkForwardResult:
    """What :func:`walk_forward` produced.

    Attributes
    ----------
    proba : numpy.ndarray or pandas.DataFrame
        ``(n, k)`` stitched out-of-sample probabilities (columns: the classes seen in ``y``), NaN outside test
        blocks and during each model's warm-up.
    positions : numpy.ndarray or pandas object
        What ``strategy(proba)`` returned, with NaN replaced by 0 (flat).
    backtest : BacktestResult
        The single backtest of the stitched positions.
    folds : list of (numpy.ndarray, numpy.ndarray)
        The ``(train, test)`` row positions used.
    models : list
        The fitted model of each fold.
    classes : numpy.ndarray
        The class labels of ``proba``'s columns.
    """

    proba: Any
    positions: Any
    backtest: BacktestResult
    folds: list[tuple[np.ndarray, np.ndarray]]
    models: list[Any] = field(repr=False)
    classes: np.ndarray


def _rows(X: Any, lo: int, hi: int) -> Any:
    return X.iloc[lo:hi] if isinstance(X, pd.DataFrame) else X[lo:hi]


def walk_forward(
    model_factory: Callable[[], Any],
    X: Any,
    y: Any,
    price: Any,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    strategy: Callable[[Any], Any],
    costs: dict[str, Any] | None = None,
    *,
    seq_len: int | None = None,
    **backtest_kwargs: Any,
) -> WalkForwardResult:
    """Refit per fold on past data only, predict the next fold, stitch the positions, backtest once.

    Parameters
    ----------
    model_factory : callable
        ``model_factory()`` returns a new, unfitted signal model (``fit(X, y)`` and ``predict_proba(X)``, see
        :mod:`signalbench.signals`).
    X : numpy.ndarray or pandas.DataFrame
        ``(n, F)`` causal features in time order.
    y : array-like
        ``(n,)`` class labels (NaN where unknown), aligned with ``X``.
    price : array-like or pandas.Series
        ``(n,)`` prices for the backtest.
    folds : sequence of (train, test)
        Row positions per fold, e.g. ``signalbench.data.splits.walk_forward(n, horizon=..., seq_len=...)``.
        Every training row must precede every test row of its fold, and test blocks must not overlap.
    strategy : callable
        Maps ``(n, k)`` probabilities to target positions, e.g. ``signalbench.strategies.sign``.
    costs : dict, optional
        ``fee_bps``, ``half_spread_bps``, ``slippage_bps`` for :func:`signalbench.engine.backtest`.
    seq_len : int, optional
        The model's window length, for the context rows before each test block; read from the model's
        ``seq_len`` attribute when not given (1 when it has none).
    **backtest_kwargs
        Further keywords for :func:`signalbench.engine.backtest` (``delay``, ``mode``, ``periods_per_year``, ...).

    Returns
    -------
    WalkForwardResult
        Stitched probabilities and positions, the backtest, and the fitted models.

    Raises
    ------
    ValueError
        When ``X``, ``y`` and ``price`` have different lengths, a fold trains on rows at or after its test
        block, test blocks overlap, or a strategy returns a different number of rows.
    """
    n = len(X)
    y_arr = np.asarray(y, dtype=np.float64)
    if y_arr.shape != (n,):
        raise ValueError(f"y: expected shape ({n},) to match X, got {y_arr.shape}")
    if len(price) != n:
        raise ValueError(f"price: expected {n} rows to match X, got {len(price)}")
    if not folds:
        raise ValueError("folds: expected at least one (train, test) pair")
    classes = np.unique(y_arr[np.isfinite(y_arr)])
    proba = np.full((n, classes.size), np.nan)
    covered = np.zeros(n, dtype=bool)
    models = []
    checked = []
    for i, (train, test) in enumerate(folds):
        train = np.asarray(train, dtype=np.int64)
        test = np.asarray(test, dtype=np.int64)
        if train.size == 0 or test.size == 0:
            raise ValueError(f"folds[{i}]: expected non-empty train and test rows")
        t0, t1 = int(test.min()), int(test.max())
        if int(train.max()) >= t0:
            raise ValueError(f"folds[{i}]: training row {int(train.max())} is not before the test block at row {t0}")
        if covered[test].any():
            raise ValueError(f"folds[{i}]: its test rows overlap an earlier fold's")
        covered[test] = True
        # Fit on the rows up to the last training row; only the fold's training rows carry labels.
        lo, hi = int(train.min()), int(train.max()) + 1
        model = model_factory()
        L = int(seq_len if seq_len is not None else getattr(model, "seq_len", 1) or 1)
        ctx = max(0, lo - (L - 1))
        y_fit = np.full(hi - ctx, np.nan)
        y_fit[train - ctx] = y_arr[train]
        model.fit(_rows(X, ctx, hi), y_fit)
        # Predict the test block with its seq_len - 1 rows of past context.
        start = max(0, t0 - (L - 1))
        out = np.asarray(model.predict_proba(_rows(X, start, t1 + 1)), dtype=np.float64)
        cols = np.searchsorted(classes, np.asarray(model.classes_, dtype=np.float64))
        block = np.full((t1 + 1 - start, classes.size), np.nan)
        block[:, cols] = out
        proba[test] = block[test - start]
        models.append(model)
        checked.append((train, test))

    index = price.index if isinstance(price, pd.Series) else (X.index if isinstance(X, pd.DataFrame) else None)
    proba_out: Any = proba
    if index is not None:
        proba_out = pd.DataFrame(proba, index=index, columns=classes.astype(np.int64))
    raw = strategy(proba_out)
    positions = raw.fillna(0.0) if isinstance(raw, pd.Series | pd.DataFrame) else np.nan_to_num(np.asarray(raw))
    if len(positions) != n:
        raise ValueError(f"strategy: returned {len(positions)} rows, expected {n}")
    result = backtest(price, positions, **(costs or {}), **backtest_kwargs)
    return WalkForwardResult(proba_out, positions, result, checked, models, classes)


__all__ = ["WalkForwardResult", "walk_forward"]
