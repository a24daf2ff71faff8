"""Walk-forward evaluation: refit on the past, predict the next block, stitch, backtest once.

Each fold's model is created fresh by ``model_factory()``, fitted on the rows before the fold's test block only
(the purge gap of :func:`signalbench.data.splits.walk_forward_splits` keeps every training label window clear of the
test rows), and predicts the test block using, as context, the rows the model's ``context_start`` names (the
``window - 1`` rows just before it; past rows: a prediction at t still uses rows up to t only). The
out-of-sample probabilities of all folds are stitched into one ``(n, k)`` array (NaN outside the test blocks),
turned into positions by ``strategy`` (NaN rows are flat) and priced by one :func:`signalbench.engine.backtest`
call, so every fold pays the same costs and the equity curve is continuous (``docs/architecture.md``).

It is not a second runner: each fold is fitted and predicted by the experiment's own functions
(:mod:`signalbench.experiment.fitting`: the blocks with their context, the fit, ``predict_span``), its validation tail
cut by the experiment's rule (:func:`signalbench.experiment.folds.validation_tail`), so a fold gives the probabilities
a ``walk_forward`` experiment run gives it, bit for bit. What is its own: the checks of its arguments, the
stitching and the one backtest.

Every argument is checked before the first model is fitted: a bad fold, cost or backtest keyword is reported
at once, not minutes into a run.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import (
    check_sorted_index,
    did_you_mean,
    expected,
    integer,
    number,
    numeric_array,
)
from signalbench.engine.backtest import BacktestResult, backtest
from signalbench.experiment.fits import fit_record
from signalbench.experiment.fitting import block, context_of, fit, predict_span
from signalbench.experiment.folds import validation_tail
from signalbench.strategies._inputs import check_cells, check_same_index

__all__ = ["WalkForwardResult", "walk_forward"]

_COST_KEYS = ("fee_bps", "half_spread_bps", "slippage_bps")
_BACKTEST_KEYS = (*_COST_KEYS, "delay", "mode", "periods_per_year", "close_at_end", "max_leverage")


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
    fits : list of dict
        Per fold, the rows given to ``fit`` (``X`` and ``X_val``, with their labelled rows) and to ``predict_proba``
        (:mod:`signalbench.experiment.fits`): what ``signalbench.audit.check_scalers`` checks each model against.
    """

    proba: Any
    positions: Any
    backtest: BacktestResult
    folds: list[tuple[np.ndarray, np.ndarray]]
    models: list[Any] = field(repr=False)
    classes: np.ndarray
    fits: list[dict] = field(default_factory=list, repr=False)


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
    horizon: int = 1,
    val_size: float = 0.2,
    **backtest_kwargs: Any,
) -> WalkForwardResult:
    """Refit per fold on past data only, predict the next fold, stitch the positions, backtest once.

    Parameters
    ----------
    model_factory : callable
        ``model_factory()`` returns a new, unfitted signal model (``fit(X, y)``, ``predict_proba(X)`` and,
        after fitting, ``classes_``; see :mod:`signalbench.signals`), a new object on every call.
    X : numpy.ndarray or pandas.DataFrame
        ``(n, F)`` causal numeric features in time order (NaN allowed during warm-up).
    y : array-like
        ``(n,)`` class labels (whole numbers; NaN where unknown), aligned with ``X``.
    price : array-like or pandas.Series
        ``(n,)`` prices > 0 for the backtest.
    folds : sequence of (train, test)
        Integer row positions in ``[0, n)`` per fold, e.g.
        ``signalbench.data.splits.walk_forward_splits(n, horizon=..., seq_len=...)``. Every training row must precede
        every test row of its fold, test blocks must not overlap, and each fold needs a labelled training row.
    strategy : callable
        Maps ``(n, k)`` probabilities to target positions, e.g. ``signalbench.strategies.sign``.
    costs : dict, optional
        ``fee_bps``, ``half_spread_bps``, ``slippage_bps`` for :func:`signalbench.engine.backtest`.
    seq_len : int, optional
        The window length (an integer >= 1) for the purge gap and the context rows before each part; the model's
        ``window`` when not given. Each test block is predicted from the row the model's ``context_start`` names
        (a stateful model, ``stateful_lstm``: its whole run of finite rows before the block), or ``seq_len - 1``
        rows before it when that reaches further back.
    horizon : int, default 1
        The label horizon in rows, for the purge gap before each fold's validation tail.
    val_size : float, default 0.2
        The share of each fold's training rows kept, at its end, as the fold's own validation data: passed to
        ``fit`` as ``X_val``/``y_val`` (early stopping, best weights restored), separated from the rows trained on by
        a purge gap of ``horizon + seq_len`` rows. 0 trains on every training row without validation.
    **backtest_kwargs
        Further keywords for :func:`signalbench.engine.backtest` (``delay``, ``mode``, ``periods_per_year``, ...).

    Returns
    -------
    WalkForwardResult
        Stitched probabilities and positions, the backtest, and the fitted models.

    Raises
    ------
    TypeError
        A callable argument that is not callable, a ``model_factory`` that returns None or something without
        ``fit``/``predict_proba``/``classes_``, non-numeric ``X``/``y``/``price``, folds that are not pairs of
        integer row positions (boolean masks included), ``costs`` that is not a dict, a non-integer ``seq_len``.
    ValueError
        Inputs of different lengths or with misaligned or unsorted time indexes, labels that are not whole
        numbers, prices <= 0, a fold with rows outside ``[0, n)``, no labelled training row, training rows at
        or after its test block or test rows that overlap an earlier fold's, an unknown cost or backtest
        keyword (or one given twice), a ``model_factory`` that returns the same object twice, predictions of
        the wrong shape, a strategy returning the wrong number of rows. Cost and backtest arguments are checked
        by :func:`~signalbench.engine.backtest` itself, before any model is fitted.
    """
    n, y_arr, classes = _check_data(X, y, price)
    checked = _check_folds(folds, n, y_arr)
    _check_callable(model_factory, "model_factory", "a callable returning a new, unfitted model")
    _check_callable(strategy, "strategy", "a callable mapping probabilities to positions")
    seq_len = integer(seq_len, "seq_len", minimum=1, allow_none=True)
    horizon = integer(horizon, "horizon", minimum=0)
    val_size = number(val_size, "val_size", low=0.0, high=1.0, high_open=True)
    kwargs = _check_backtest_kwargs(costs, backtest_kwargs, price, n)
    proba = np.full((n, classes.size), np.nan)
    models: list[Any] = []
    fits: list[dict] = []
    for i, (train, test) in enumerate(checked):
        model = _new_model(model_factory, models, i)
        window = _window(model, seq_len)
        parts = _train_and_val(train, val_size, horizon + window, i)
        proba[test], record = _fit_predict(model, X, y_arr, parts, test, window, classes, i)
        models.append(model)
        fits.append(record)
    index = price.index if isinstance(price, pd.Series) else (X.index if isinstance(X, pd.DataFrame) else None)
    proba_out: Any = proba
    if index is not None:
        proba_out = pd.DataFrame(proba, index=index, columns=classes.astype(np.int64))
    positions = _positions(strategy, proba_out, n)
    result = backtest(price, positions, **kwargs)
    return WalkForwardResult(proba_out, positions, result, checked, models, classes, fits)


def _check_callable(value: Any, name: str, what: str) -> None:
    if not callable(value):
        raise TypeError(expected(name, what, value))


def _check_data(X: Any, y: Any, price: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """Numbers of one length, aligned and sorted pandas indexes, whole-number labels, prices > 0."""
    x_values, x_index, _ = numeric_array(X, "X", ndim=(2,))
    n = x_values.shape[0]
    y_arr, y_index, _ = numeric_array(y, "y", ndim=(1,))
    px, px_index, _ = numeric_array(price, "price", ndim=(1, 2), allow_nan=False)
    for name, length in (("y", y_arr.shape[0]), ("price", px.shape[0])):
        if length != n:
            raise ValueError(expected(name, f"{n} rows to match X", f"{length}", raw=True))
    for name, idx in (("X", x_index), ("y", y_index), ("price", px_index)):
        check_sorted_index(idx, name)
    check_same_index(x_index, y_index, "y", "X")
    check_same_index(x_index, px_index, "price", "X")
    check_cells(px, px <= 0, "price", "values > 0", px_index)
    with np.errstate(invalid="ignore"):
        fractional = np.isfinite(y_arr) & (y_arr != np.round(y_arr))
    check_cells(y_arr, fractional, "y", "class labels (whole numbers) or NaN", y_index)
    classes = np.unique(y_arr[np.isfinite(y_arr)])
    if classes.size == 0:
        raise ValueError(expected("y", "at least one class label", "only NaN", raw=True))
    return n, y_arr, classes


def _check_folds(folds: Any, n: int, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every fold: integer rows in [0, n), training rows (some labelled) before test rows, no overlap."""
    if isinstance(folds, str | bytes | Mapping) or not isinstance(folds, Iterable):
        raise TypeError(expected("folds", "a list of (train, test) pairs of row positions", folds))
    folds = list(folds)
    if not folds:
        raise ValueError(expected("folds", "at least one (train, test) pair", "an empty list", raw=True))
    covered = np.zeros(n, dtype=bool)
    checked = []
    for i, fold in enumerate(folds):
        if isinstance(fold, str | bytes | Mapping) or not isinstance(fold, Sequence) or len(fold) != 2:
            raise TypeError(expected(f"folds[{i}]", "a (train, test) pair of row positions", fold))
        train = _fold_rows(fold[0], f"folds[{i}] train rows", n)
        test = _fold_rows(fold[1], f"folds[{i}] test rows", n)
        t0 = int(test.min())
        if int(train.max()) >= t0:
            raise ValueError(
                expected(
                    f"folds[{i}]",
                    f"training rows before its test block at row {t0}",
                    f"training row {int(train.max())}",
                    raw=True,
                )
            )
        if covered[test].any():
            row = int(test[covered[test]][0])
            raise ValueError(expected(f"folds[{i}]", "test rows no earlier fold tested", f"row {row} again", raw=True))
        if not np.isfinite(y[train]).any():
            raise ValueError(
                expected(f"folds[{i}]", "training rows with at least one label", "only NaN labels", raw=True)
            )
        covered[test] = True
        checked.append((train, test))
    return checked


def _fold_rows(rows: Any, name: str, n: int) -> np.ndarray:
    """Non-empty 1-D integer row positions in [0, n) (a boolean mask is a wrong kind, not rows 0 and 1)."""
    arr = np.asarray(rows)
    if arr.size == 0:
        raise ValueError(expected(name, "at least one row", "none", raw=True))
    if arr.dtype.kind not in "iu":
        hint = "use np.flatnonzero(mask) for a boolean mask" if arr.dtype.kind == "b" else ""
        raise TypeError(expected(name, "integer row positions", f"dtype {arr.dtype}", raw=True, hint=hint))
    if arr.ndim != 1:
        raise ValueError(expected(name, "a 1-D array of row positions", f"shape {arr.shape}", raw=True))
    outside = (arr < 0) | (arr >= n)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise ValueError(expected(name, f"row positions in [0, {n}) (the rows of X)", int(arr[k]), at=f"item {k}"))
    arr = arr.astype(np.int64, copy=False)
    return arr if bool(np.all(np.diff(arr) > 0)) else np.unique(arr)  # the parts of a fold are sets of rows


def _check_backtest_kwargs(costs: Any, backtest_kwargs: dict[str, Any], price: Any, n: int) -> dict[str, Any]:
    """Known cost and backtest keywords, none given twice, accepted by the engine on flat positions."""
    if costs is None:
        costs = {}
    if not isinstance(costs, Mapping):
        raise TypeError(expected("costs", "a dict of " + ", ".join(_COST_KEYS), costs))
    for name, allowed in (("costs", _COST_KEYS), ("backtest keyword", _BACKTEST_KEYS)):
        for key in costs if name == "costs" else backtest_kwargs:
            if key not in allowed:
                what = "one of " + ", ".join(allowed)
                raise ValueError(expected(name, what, key) + did_you_mean(key, allowed))
    twice = sorted(set(costs) & set(backtest_kwargs))
    if twice:
        raise ValueError(expected(twice[0], "one value", "it in costs and as a keyword", raw=True))
    kwargs = {**costs, **backtest_kwargs}
    with warnings.catch_warnings():  # only the arguments are checked here; the real backtest warns
        warnings.simplefilter("ignore")
        backtest(price, np.zeros(n), **kwargs)
    return kwargs


def _new_model(model_factory: Callable[[], Any], earlier: list[Any], i: int) -> Any:
    """``model_factory()``, checked: a new object with ``fit``, ``predict_proba``, ``context_start`` and ``window``."""
    model = model_factory()
    methods = all(callable(getattr(model, attr, None)) for attr in ("fit", "predict_proba", "context_start"))
    if not (methods and hasattr(model, "window")):
        raise TypeError(
            expected(
                "model_factory",
                "a callable returning a model with fit, predict_proba, context_start and window (the SignalModel "
                "contract)",
                model,
                at=f"folds[{i}]",
            )
        )
    if any(model is other for other in earlier):
        raise ValueError(
            expected("model_factory", "a new model for every fold", "the same object again", raw=True, at=f"folds[{i}]")
        )
    return model


def _window(model: Any, seq_len: int | None) -> int:
    """The window length: ``seq_len`` when given, else the model's ``window``."""
    if seq_len is not None:
        return seq_len
    return integer(model.window, "model_factory().window", minimum=1)


def _train_and_val(train: np.ndarray, val_size: float, gap: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """The fold's rows to train on and its validation tail (empty when ``val_size`` is 0), ``gap`` rows apart.

    The tail is the experiment's (:func:`signalbench.experiment.folds.validation_tail`).
    """
    if val_size == 0 or train.size < 2:
        return train, train[:0]
    head, val = validation_tail(train, val_size, gap)
    if head.size == 0:
        raise ValueError(
            expected(
                f"folds[{i}]",
                f"training rows left before its validation tail of {val.size} rows and a purge gap of {gap}",
                f"{train.size} training rows",
                raw=True,
                hint="lower val_size (0 disables validation) or train on more rows",
            )
        )
    return head, val


def _fit_predict(
    model: Any,
    X: Any,
    y: np.ndarray,
    parts: tuple[np.ndarray, np.ndarray],
    test: np.ndarray,
    L: int,
    classes: np.ndarray,
    i: int,
) -> tuple[np.ndarray, dict]:
    """Fit on the training rows (validation tail for early stopping, each with its context); predict the test rows.

    The experiment's own fit and prediction (:mod:`signalbench.experiment.fitting`); also returns the fit's record
    (:func:`signalbench.experiment.fits.fit_record`).
    """
    train, val = parts
    fit_block = block(X, y, train, L)
    val_blocks = [block(X, y, val, L)] if val.size else []
    fit(model, [fit_block], val_blocks)
    # Predict the test block with its past context: as the model says (a stateful model: its run of finite rows).
    t0, t1 = int(test.min()), int(test.max()) + 1
    earliest = max(0, t0 - (L - 1))
    start = context_of(model, X, t0, earliest)
    check = partial(_checked_proba, model=model, classes=classes, i=i)
    out = predict_span(model, X, t0, t1, earliest=earliest, task="classification", check=check)
    model_classes = np.asarray(model.classes_, dtype=np.float64)
    proba = np.full((t1 - t0, classes.size), np.nan)
    proba[:, np.searchsorted(classes, model_classes)] = out
    train_rows = fit_block.record()
    val_rows = val_blocks[0].record() if val_blocks else None
    return proba[test - t0], fit_record(i + 1, train_rows, val_rows, (start, t0, t1))


def _checked_proba(raw: Any, rows: int, *, model: Any, classes: np.ndarray, i: int) -> np.ndarray:
    """``predict_proba``'s output for ``rows`` rows: numbers, shape ``(rows, classes_)``, classes of ``y``."""
    name = f"folds[{i}] predict_proba"
    out, _, _ = numeric_array(raw, name, ndim=(2,))
    if not hasattr(model, "classes_"):
        raise TypeError(expected("model_factory", "models that set classes_ when fitted", model, at=f"folds[{i}]"))
    model_classes, _, _ = numeric_array(model.classes_, f"folds[{i}] classes_", ndim=(1,), allow_nan=False)
    if out.shape != (rows, model_classes.size):
        want = (rows, model_classes.size)
        raise ValueError(expected(name, f"shape {want} (rows given, classes_)", f"{out.shape}", raw=True))
    unknown = ~np.isin(model_classes, classes)
    if unknown.any():
        found = model_classes[unknown].tolist()
        raise ValueError(expected(f"folds[{i}] classes_", f"classes of y {classes.tolist()}", found))
    return out


def _positions(strategy: Callable[[Any], Any], proba: Any, n: int) -> Any:
    """``strategy(proba)`` checked (numbers, n rows), NaN replaced by 0 (flat), pandas kept."""
    raw = strategy(proba)
    values, index, columns = numeric_array(raw, "strategy output", ndim=(1, 2))
    if values.shape[0] != n:
        raise ValueError(expected("strategy output", f"{n} rows (one per row of X)", f"{values.shape[0]}", raw=True))
    values = np.where(np.isnan(values), 0.0, values)
    if isinstance(raw, pd.Series):
        return pd.Series(values, index=index, name=raw.name)
    if isinstance(raw, pd.DataFrame):
        return pd.DataFrame(values, index=index, columns=columns)
    return values
