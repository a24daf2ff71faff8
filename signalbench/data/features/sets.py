"""Named feature sets and :func:`compute_features`, which computes one or several of them on a frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from signalbench._validation import expected, name_list
from signalbench.data._inputs import Runs, group_ids, name_choice
from signalbench.data.features._frame import column, frame, frame_groups
from signalbench.data.features.book import (
    depth_imbalance,
    spread,
)
from signalbench.data.features.lob import lob_set
from signalbench.data.features.price import (
    ma_ratio,
    price_series,
    returns,
    rolling_volatility,
    rsi,
    sma,
    volume_dispersion,
    volume_ratio,
    volume_series,
)
from signalbench.data.features.rolling import ema, rolling_mean

__all__ = ["FeatureSet", "available_feature_sets", "compute_features", "feature_set"]


def _lob_basic(df, groups):
    return lob_set(df, "lob_basic", groups)


def _lob_levels(df, groups):
    return lob_set(df, "lob_levels", groups)


def _spread_series(df):
    if "ask_price_1" in df.columns and "bid_price_1" in df.columns:
        return spread(df)
    return column(df, "spread", "spread features")


def _imbalance_series(df):
    if "imbalance" in df.columns:
        return column(df, "imbalance", "imbalance features")
    return depth_imbalance(df, 1)


def _bar_returns(df, groups):
    price = price_series(df)
    volume = volume_series(df)
    out = {f"return_{k}": returns(price, k, groups=groups) for k in (1, 5, 10)}
    for w in (5, 10, 20, 50):
        out[f"ma_ratio_{w}"] = ma_ratio(price, w, groups=groups)
    for w in (5, 10, 20, 50):
        out[f"volatility_{w}"] = rolling_volatility(price, w, groups=groups)
    out["volume_ma_ratio"] = volume_ratio(volume, 20, groups=groups)
    out["volume_std"] = volume_dispersion(volume, 20, groups=groups)
    return out


def _price_volume(df, groups):
    out = _bar_returns(df, groups)
    spr = _spread_series(df)
    imb = _imbalance_series(df)
    out["spread"] = spr
    out["spread_ma_ratio"] = spr / rolling_mean(spr, 20, groups=groups)
    out["imbalance"] = imb
    out["imbalance_ma"] = rolling_mean(imb, 10, groups=groups)
    return out


def _close_indicators(df, groups):
    close = price_series(df)
    return {
        "close": close,
        "volume": volume_series(df),
        "sma_20": sma(close, 20, groups=groups),
        "ema_20": ema(close, 20, groups=groups),
        "rsi_14": rsi(close, 14, groups=groups),
    }


@dataclass(frozen=True)
class FeatureSet:
    """A named recipe of causal features.

    Attributes
    ----------
    name : str
        Registry name (``features = "lob_basic"`` in an experiment).
    description : str
        What the set contains and which columns it needs.
    build : callable
        ``build(df, groups) -> dict[str, ndarray]``, where ``groups`` is passed on to the feature functions as
        their ``groups`` argument; use :meth:`compute` instead of calling it directly.
    """

    name: str
    description: str
    build: Callable[[pd.DataFrame, object], dict[str, np.ndarray]]

    def compute(self, df: pd.DataFrame, *, groups="day") -> pd.DataFrame:
        """Compute the set on ``df``; see :func:`compute_features`.

        Parameters
        ----------
        df : pandas.DataFrame
            Input frame in time order.
        groups : str, array-like or None, default "day"
            Column name or labels of the groups (days) the rolling state restarts in; ``"day"`` is ignored when
            the frame has no such column; ``None`` treats the frame as one group.

        Returns
        -------
        pandas.DataFrame
            One float64 column per feature, on ``df``'s index.
        """
        return compute_features(df, self, groups=groups)


_FEATURE_SETS: dict[str, FeatureSet] = {
    fs.name: fs
    for fs in (
        FeatureSet(
            "lob_basic",
            "Level-1 order-book features: spread_bps, microprice_dev_bps, depth_imbalance_1, OFI at level 1 summed "
            "over 10 and 100 events, multi-level OFI over 10 events, trade imbalance (10) and trade flow (100), "
            "mid returns (1, 10) and mid volatility (50). Needs ask/bid price/size columns and trades "
            "(LOBSTER type/size/direction or synthetic trade_sign/volume).",
            _lob_basic,
        ),
        FeatureSet(
            "lob_levels",
            "Per-level depth imbalance and per-level OFI summed over 10 events, for every book level present.",
            _lob_levels,
        ),
        FeatureSet(
            "price_volume",
            "17 price, volume, spread and imbalance features: returns (1, 5, 10), moving-average ratios and "
            "volatilities (5, 10, 20, 50), volume ratio and dispersion (20), spread and spread ratio (20), "
            "imbalance and its mean (10). Price: close, else mid, else price; spread: the book's, else the "
            "'spread' column; imbalance: the 'imbalance' column, else level-1 depth imbalance.",
            _price_volume,
        ),
        FeatureSet(
            "bar_returns",
            "13 scale-free price and volume features for bars (no book needed): returns (1, 5, 10), moving-average "
            "ratios and volatilities (5, 10, 20, 50), volume ratio and dispersion (20). Price: close, else mid, "
            "else price.",
            _bar_returns,
        ),
        FeatureSet(
            "close_indicators",
            "5 classic indicators of a close price: close (raw price), volume, SMA 20, EMA 20, RSI 14. Close: "
            "close, else mid, else price.",
            _close_indicators,
        ),
    )
}


def available_feature_sets() -> tuple[str, ...]:
    """Names accepted by :func:`feature_set`.

    Returns
    -------
    tuple of str
        Sorted names.
    """
    return tuple(sorted(_FEATURE_SETS))


def feature_set(name: str) -> FeatureSet:
    """Look up a feature set by name.

    Parameters
    ----------
    name : str
        One of :func:`available_feature_sets` (``"bar_returns"``, ``"close_indicators"``, ``"lob_basic"``,
        ``"lob_levels"``, ``"price_volume"``).

    Returns
    -------
    FeatureSet
        The recipe; call ``.compute(df)``.

    Raises
    ------
    TypeError
        When ``name`` is not a string.
    ValueError
        For an unknown name, with the closest match suggested.
    """
    return _FEATURE_SETS[name_choice(name, "features", available_feature_sets())]


def _resolve(features) -> list[FeatureSet]:
    if isinstance(features, FeatureSet):
        return [features]
    if isinstance(features, list | tuple) and any(isinstance(f, FeatureSet) for f in features):
        sets = [f if isinstance(f, FeatureSet) else feature_set(f) for f in features]
    else:
        sets = [feature_set(name) for name in name_list(features, "features")]
    names = [fs.name for fs in sets]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ValueError(expected("features", "each feature set once", f"{twice!r} twice in {names}", raw=True))
    return sets


def _merge(columns: dict, origin: dict, fs: FeatureSet, built: dict) -> None:
    """Add one set's columns; a column another set already made is kept once if equal, an error if not."""
    for name, values in built.items():
        values = np.asarray(values, dtype=np.float64)
        if name not in columns:
            columns[name], origin[name] = values, fs.name
        elif not np.array_equal(columns[name], values, equal_nan=True):
            raise ValueError(
                expected(
                    "features",
                    "feature sets that agree on every column they share",
                    f"different values of {name!r} from {origin[name]!r} and {fs.name!r}",
                    raw=True,
                )
            )


def compute_features(
    df: pd.DataFrame, features: str | FeatureSet | Sequence[str] = "lob_basic", *, groups="day"
) -> pd.DataFrame:
    """Compute one or more feature sets on a frame, restarting rolling state at each day.

    Parameters
    ----------
    df : pandas.DataFrame
        Input in time order (LOBSTER frame, synthetic ticks or bars). A time index that is not sorted is an error
        (naming the first row out of order): features computed on rows out of order would not be causal.
    features : str, FeatureSet or sequence of str, default "lob_basic"
        Feature-set name(s) or a :class:`FeatureSet`; several sets are concatenated in order. A column that two
        sets both make (``lob_basic`` and ``lob_levels`` share ``depth_imbalance_1`` and ``ofi_l1_sum_10``) is
        kept once, at its first place, when the values agree; different values under one name are an error, as
        is a set listed twice.
    groups : str, array-like or None, default "day"
        Column name or labels of the groups; ``"day"`` is used when that column exists, else the frame is one
        group. ``None`` forces a single group.

    Returns
    -------
    pandas.DataFrame
        Float64 features on ``df``'s index; NaN during warm-up at the start of each group.

    Raises
    ------
    TypeError
        When ``df`` is not a DataFrame, ``features`` is not a name, a list of names or a FeatureSet, or a column
        a feature needs holds no numbers (datetimes, strings).
    ValueError
        For an unknown feature set, a missing column, groups that are not contiguous, or a time index out of order.
    """
    sets = _resolve(features)
    frame(df, "compute_features")
    runs = Runs(group_ids(frame_groups(df, groups), len(df)))
    columns: dict[str, np.ndarray] = {}
    origin: dict[str, str] = {}
    for fs in sets:
        _merge(columns, origin, fs, fs.build(df, runs))
    return pd.DataFrame(columns, index=df.index)
