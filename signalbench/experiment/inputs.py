"""The data side of an experiment: load the rows, compute the causal features, the traded price and the costs.

Labels are built per fold by :func:`labels_for` because a stationary band given as a quantile is fit on that fold's
training rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from signalbench.experiment.config import BarsData, Experiment, LobsterData, SyntheticData

__all__ = ["Inputs", "labels_for", "load_inputs", "read_inputs"]


@dataclass
class Inputs:
    """Everything an experiment reads from its data, aligned row by row.

    Attributes
    ----------
    frame : pandas.DataFrame
        The loaded rows (events, ticks or bars) on a DatetimeIndex.
    features : pandas.DataFrame
        Causal features (row t uses rows up to t), NaN during each day's warm-up.
    price : pandas.Series
        The traded price: the mid for order books and ticks, the close for bars.
    half_spread_bps : numpy.ndarray or None
        The book's quoted half spread in bps per row (when the costs say ``"quoted"`` or a strategy reads it).
    groups : numpy.ndarray or None
        Day labels (rolling state and label windows restart each day).
    bayes_accuracy : float or None
        The Bayes-optimal accuracy of a synthetic run (what a perfect model of the planted edge reaches).
    description : str
        What was loaded, for the report and the terminal.
    """

    frame: pd.DataFrame
    features: pd.DataFrame
    price: pd.Series
    half_spread_bps: np.ndarray | None
    groups: np.ndarray | None
    bayes_accuracy: float | None
    description: str

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.frame)


def _load_frame(data: Any, seed: int, resolve: Any) -> tuple[pd.DataFrame, float | None, str]:
    from signalbench.data import load_bars, load_lobster, synthetic_ticks

    if isinstance(data, SyntheticData):
        seed = seed if data.seed is None else data.seed
        ticks = synthetic_ticks(
            data.n,
            seed=seed,
            edge=data.edge,
            signal=data.signal,
            flow_window=data.flow_window,
            levels=data.levels,
            ticks_per_day=data.ticks_per_day,
            leaky=data.leaky,
        )
        what = f"synthetic ticks: {data.n:,} rows, edge {data.edge:g} ({data.signal}), seed {seed}"
        return ticks.data, float(ticks.bayes_accuracy), what
    if isinstance(data, LobsterData):
        paths = resolve(data.path)
        frame = load_lobster(paths, levels=data.levels, crossed=data.crossed)
        ticker = frame.attrs.get("ticker", "?")
        what = f"LOBSTER {ticker}: {len(frame):,} events, {frame.attrs.get('levels', '?')} level(s), {data.path}"
        return frame, None, what
    assert isinstance(data, BarsData)
    frame = load_bars(resolve(data.path), timestamp=data.timestamp, tz=data.tz)
    return frame, None, f"bars: {len(frame):,} rows from {data.path}"


def _groups(frame: pd.DataFrame) -> np.ndarray | None:
    if "day" in frame.columns:
        return frame["day"].to_numpy()
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.index.normalize().to_numpy()
    return None


def needs_spread(exp: Experiment) -> bool:
    """Whether the run reads the book's quoted half spread (as its costs or as a strategy's input)."""
    from signalbench.strategies.specs import needs_spread

    if exp.costs.half_spread_bps == "quoted" or exp.costs.model == "book":  # book: the quoted spread tunes rules
        return True
    return any(needs_spread(s.rule) for s in exp.strategies)


def load_inputs(exp: Experiment) -> Inputs:
    """Load the data of ``exp`` and compute its features, traded price and (when asked) quoted half spread."""
    return read_inputs(exp.data, exp.features, exp.seed, exp.resolve, needs_spread(exp))


def read_inputs(data: Any, features: str | list[str], seed: int, resolve: Any, spread: bool) -> Inputs:
    """What :func:`load_inputs` loads, from what it reads of the experiment alone (a task of a single run calls it).

    ``data`` is the ``[data]`` section, ``seed`` the experiment's (synthetic data without their own), ``resolve``
    maps a config path to a file, ``spread`` says whether the quoted half spread is computed.
    """
    from signalbench.data import compute_features
    from signalbench.data.features import half_spread_bps, mid_price

    frame, bayes, what = _load_frame(data, seed, resolve)
    if isinstance(data, BarsData):
        price = pd.Series(frame["close"].to_numpy(dtype=np.float64), index=frame.index, name="close")
    else:
        price = pd.Series(mid_price(frame), index=frame.index, name="mid")
    half = None
    if spread:  # the config refused it for bars (experiment/config.py, _book_problems)
        half = np.asarray(half_spread_bps(frame), dtype=np.float64)
    return Inputs(frame, compute_features(frame, features), price, half, _groups(frame), bayes, what)


def labels_for(exp: Experiment, inputs: Inputs, train_rows: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """Labels of every row for one fold; a quantile stationary band is fit on ``train_rows`` only.

    Returns
    -------
    labels : numpy.ndarray
        ``(n,)`` float64: classes 0 (down), 1 (stationary), 2 (up), or forward log returns; NaN where the label
        window leaves the day or the data.
    info : dict
        How the labels were made (kind, horizon, the stationary threshold and whether it was fit).
    """
    from signalbench.data.labels import make_labels

    spec = exp.labels
    y, threshold = make_labels(
        inputs.price.to_numpy(),
        spec.kind,
        spec.horizon,
        threshold=spec.threshold,
        quantile=spec.stationary_quantile,
        fit_rows=train_rows,
        groups=inputs.groups,
    )
    info: dict[str, Any] = {"kind": spec.kind, "horizon": spec.horizon}
    if threshold is None:
        return y, info
    if spec.stationary_quantile is not None:
        info["threshold_fit_on"] = "training rows"
        info["stationary_quantile"] = spec.stationary_quantile
    info["threshold"] = threshold
    return y, info
