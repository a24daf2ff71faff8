"""Honest model selection: the deflated Sharpe ratio and the probability of backtest overfitting.

Trying N configurations and reporting the best one inflates its Sharpe ratio: the maximum of N noisy
estimates is biased upwards even when no configuration has an edge. Both tools here take the
per-period returns of *all* N configurations that were tried, as an ``(n_obs, N)`` array or DataFrame
(time on axis 0, one column per configuration: the orientation of :func:`signalbench.engine.backtest`
results), and say how much of the winner's performance survives the selection.

* :func:`deflated_sharpe` / :func:`deflated_sharpe_row`: Bailey and Lopez de Prado (2014), "The Deflated
  Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
  Portfolio Management 40(5).
* :func:`pbo`: Bailey, Borwein, Lopez de Prado and Zhu (2017), "The Probability of Backtest
  Overfitting", Journal of Computational Finance 20(4), estimated by combinatorially symmetric
  cross-validation (CSCV).

It lives in the engine because it is a statistic of backtest returns: ``backtest`` adds a ``deflated_sharpe``
row when several trial columns were tried (``docs/architecture.md``). Inputs are checked by the engine's one
converter (:mod:`signalbench.engine._inputs`): datetimes or strings where returns are expected are a
``TypeError``; NaN, infinity, too few observations and impossible parameters are a ``ValueError``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from scipy import stats

from signalbench._validation import choice, expected, integer, number
from signalbench.engine._inputs import as_2d
from signalbench.engine.kernels import central_moments_nb

__all__ = [
    "MAX_PBO_COMBINATIONS",
    "DeflatedSharpe",
    "PBOResult",
    "block_bounds",
    "block_moments",
    "deflated_sharpe",
    "deflated_sharpe_row",
    "pbo",
    "pbo_from_blocks",
]

# Euler-Mascheroni constant (the extreme-value approximation of the expected maximum).
_EULER_GAMMA = 0.5772156649015329

#: The most CSCV splits :func:`pbo` computes: C(20, 10) = 184,756 fits; C(22, 11) = 705,432 does not.
MAX_PBO_COMBINATIONS = 200_000


def _returns_matrix(returns: Any, name: str = "returns") -> tuple[np.ndarray, list[Any]]:
    """(n_obs,) or (n_obs, N) finite returns -> a float64 (n_obs, N) array and the column labels."""
    x, template = as_2d(returns, name, min_rows=0, allow_nan=False, allow_bool=False)
    return x, template.labels(x.shape[1])


def _expected_max_z(n_trials: int) -> float:
    """Expected maximum of ``n_trials`` independent standard normals (extreme-value approximation).

    ``(1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e))``; 0 for a single trial (no selection).
    """
    if n_trials == 1:
        return 0.0
    return float(
        (1 - _EULER_GAMMA) * stats.norm.ppf(1 - 1 / n_trials)
        + _EULER_GAMMA * stats.norm.ppf(1 - 1 / (n_trials * math.e))
    )


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column per-observation Sharpe (``ddof=0``), skewness and (non-excess) kurtosis.

    Skewness and kurtosis are the bias-corrected sample estimators (``scipy.stats`` with
    ``bias=False``), computed from central moments in one Numba pass per column (no temporaries the
    size of ``x``). Zero-variance columns get NaN for all three.
    """
    return _shape_from_moments(central_moments_nb(np.asfortranarray(x, dtype=np.float64)), x.shape[0])


def _shape_from_moments(mom: np.ndarray, n_obs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sharpe, skewness and kurtosis of :func:`_moments` from the (4, N) mean, m2, m3, m4 of ``n_obs`` values."""
    n = float(n_obs)
    mean, m2, m3, m4 = mom
    ok = m2 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = np.where(ok, mean / np.sqrt(m2), np.nan)
        g1 = m3 / m2**1.5
        skew = np.where(ok, g1 * math.sqrt(n * (n - 1)) / (n - 2), np.nan) if n > 2 else np.full_like(sr, np.nan)
        if n > 3:
            excess = ((n * n - 1.0) * m4 / m2**2 - 3.0 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0))
            kurt = np.where(ok, excess + 3.0, np.nan)
        else:
            kurt = np.full_like(sr, np.nan)
    return sr, skew, kurt


def _psr(sr: np.ndarray, skew: np.ndarray, kurt: np.ndarray, n_obs: int, benchmark: float) -> np.ndarray:
    """Probabilistic Sharpe ratio ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``."""
    with np.errstate(invalid="ignore"):
        denom_sq = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
        z = (sr - benchmark) * math.sqrt(n_obs - 1) / np.sqrt(np.where(denom_sq > 0, denom_sq, np.nan))
    return stats.norm.cdf(z)


def _trial_sharpe_variance(sr: np.ndarray, n_obs: int) -> float:
    """Sample variance (``ddof=1``) of the finite trial Sharpe ratios; ``1 / (n_obs - 1)`` with fewer than two.

    The fallback is the variance of a skill-less Sharpe estimate from ``n_obs`` normal returns (the PSR's own
    standard error at SR = 0), so a stated number of trials still deflates a single column.
    """
    finite = sr[np.isfinite(sr)]
    return float(finite.var(ddof=1)) if finite.size >= 2 else 1.0 / (n_obs - 1)


@dataclass(frozen=True)
class DeflatedSharpe:
    """Result of :func:`deflated_sharpe`.

    Attributes
    ----------
    dsr : float
        Probability that the selected configuration's true Sharpe ratio exceeds ``sr_star``, the
        Sharpe the best of ``n_trials`` skill-less configurations is expected to show.
    best : Any
        Label (DataFrame column, else position) of the configuration with the highest Sharpe.
    sharpe : float
        Its per-observation Sharpe ratio ``mean / std`` (``ddof=0``, not annualised).
    sr_star : float
        The deflated benchmark ``sqrt(var_sharpe) * expected_max_z`` (per observation).
    expected_max_z : float
        Expected maximum of ``n_trials`` standard normals.
    var_sharpe : float
        Variance of the trial Sharpe ratios used for the benchmark (per observation squared).
    n_trials : int
        Number of (independent) trials the benchmark accounts for.
    n_obs : int
        Number of observations per configuration.
    skew : float
        Sample skewness of the best configuration's returns.
    kurtosis : float
        Sample kurtosis (not excess: 3 for a normal distribution) of its returns.
    """

    dsr: float
    best: Any
    sharpe: float
    sr_star: float
    expected_max_z: float
    var_sharpe: float
    n_trials: int
    n_obs: int
    skew: float
    kurtosis: float


def _check_n_obs(n_obs: int) -> None:
    if n_obs < 4:
        what = "at least 4 observations (rows) for skewness and kurtosis"
        raise ValueError(expected("returns", what, f"{n_obs}", raw=True))


def deflated_sharpe(returns: Any, *, n_trials: int | None = None, var_sharpe: float | None = None) -> DeflatedSharpe:
    """Deflated Sharpe ratio of the best of N tried configurations (Bailey and Lopez de Prado 2014).

    The configuration with the highest Sharpe ratio is selected, and its probabilistic Sharpe
    ratio is computed against the Sharpe that selection alone would produce:

    ``DSR = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``,
    ``SR* = sqrt(V[SR_n]) * ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``

    with ``SR`` the per-observation Sharpe ``mean / std`` (``ddof=0``) of the selected column, ``g3``
    and ``g4`` its bias-corrected sample skewness and (non-excess) kurtosis, ``T`` the number of
    observations, ``N = n_trials`` and ``gamma`` the Euler-Mascheroni constant.

    Parameters
    ----------
    returns : array-like or pandas.DataFrame
        (n_obs, N) per-period returns of every configuration tried (time on axis 0), finite,
        n_obs >= 4. A 1-D array is one configuration.
    n_trials : int, optional
        Number of independent trials, >= 1. Default: N, the number of columns. Pass an effective
        number when the columns are strongly correlated (neighbouring grid points are not
        independent trials, so N makes DSR conservative).
    var_sharpe : float, optional
        Variance of the trials' per-observation Sharpe ratios, >= 0. Default: the sample variance
        (``ddof=1``) of the columns' Sharpe ratios (constant columns excluded); with fewer than two
        usable columns, ``1 / (n_obs - 1)``, the variance of a skill-less Sharpe estimate from n_obs
        normal returns, so that ``n_trials`` tried elsewhere deflate even a single column.

    Returns
    -------
    DeflatedSharpe
        ``dsr`` plus the quantities that explain it. ``dsr`` is NaN when the selected column's
        higher moments make the denominator non-positive.

    Raises
    ------
    TypeError
        On datetime, string or object returns, or ``n_trials`` / ``var_sharpe`` of the wrong kind.
    ValueError
        On non-finite returns, fewer than 4 observations, every column constant, or ``n_trials < 1``
        / ``var_sharpe < 0``.

    Notes
    -----
    With the same inputs this equals ``purgedcv.deflated_sharpe_ratio(best_column, n_trials,
    var_sharpe)``, which uses the same moment conventions; ``purgedcv`` leaves ``var_sharpe`` to
    the caller while this function estimates it from the columns by default.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0.0, 0.01, size=(500, 50))
    >>> result = deflated_sharpe(noise)
    >>> result.n_trials, result.dsr < 0.95
    (50, True)
    """
    x, labels = _returns_matrix(returns)
    n_obs, n_cols = x.shape
    _check_n_obs(n_obs)
    n_trials = integer(n_trials, "n_trials", minimum=1, allow_none=True)
    var_sharpe = number(var_sharpe, "var_sharpe", low=0.0, allow_none=True)
    sr, skew, kurt = _moments(x)
    if not np.isfinite(sr).any():
        raise ValueError(
            expected("returns", "a column with non-zero variance", "only constant columns", raw=True)
            + "; the Sharpe ratio is undefined"
        )
    n_trials = n_cols if n_trials is None else n_trials
    var = _trial_sharpe_variance(sr, n_obs) if var_sharpe is None else var_sharpe
    best = int(np.nanargmax(sr))
    z_max = _expected_max_z(n_trials)
    sr_star = math.sqrt(var) * z_max
    dsr = float(_psr(sr[best : best + 1], skew[best : best + 1], kurt[best : best + 1], n_obs, sr_star)[0])
    return DeflatedSharpe(
        dsr=dsr,
        best=labels[best],
        sharpe=float(sr[best]),
        sr_star=sr_star,
        expected_max_z=z_max,
        var_sharpe=var,
        n_trials=n_trials,
        n_obs=n_obs,
        skew=float(skew[best]),
        kurtosis=float(kurt[best]),
    )


def deflated_sharpe_row(returns_2d: Any, *, n_trials: int | None = None) -> np.ndarray:
    """The deflated Sharpe ratio of every column, each judged as if it were the one selected.

    For an ``(n_obs, N)`` return matrix (one column per configuration of a grid) the benchmark
    ``SR* = sqrt(V) * E[max of n_trials standard normals]`` is computed once (``V`` as in
    :func:`deflated_sharpe`: the sample variance, ``ddof=1``, of the columns' per-observation Sharpe
    ratios, constant columns excluded, or ``1 / (n_obs - 1)`` with fewer than two such columns), and each
    column's value is its probabilistic Sharpe ratio against that common ``SR*``, exactly as
    :func:`deflated_sharpe` computes it for the best column. So the entry of the column with the highest
    Sharpe equals ``deflated_sharpe(returns_2d, n_trials=n_trials).dsr``, and every entry reads "the
    probability that this column's true Sharpe beats what the best of n_trials skill-less tries would
    show". With one column and one trial there is no selection: ``SR* = 0`` and the value is PSR against 0.

    Parameters
    ----------
    returns_2d : array-like or pandas.DataFrame
        (n_obs, N) per-period net returns, time on axis 0, all finite.
    n_trials : int, optional
        Number of trials, >= 1; default N (the columns, constant ones included).

    Returns
    -------
    numpy.ndarray
        (N,) float64 values in [0, 1]. NaN for a constant column (Sharpe undefined), for a column
        whose higher moments make the PSR denominator non-positive, and for every column when
        ``n_obs < 4``: the helper never raises on short or degenerate data, so a statistics table
        can always carry the row.

    Raises
    ------
    TypeError
        If ``returns_2d`` holds datetimes, strings or objects, or ``n_trials`` is not an integer.
    ValueError
        If ``returns_2d`` is not a 2-D array of finite numbers, or ``n_trials < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> r = rng.normal(0.0, 0.01, size=(1000, 4))
    >>> r[:, 3] += 0.003  # a real edge
    >>> (deflated_sharpe_row(r) > 0.95).tolist()
    [False, False, False, True]
    """
    x, _ = _returns_matrix(returns_2d, "returns_2d")
    n_trials = integer(n_trials, "n_trials", minimum=1, allow_none=True)
    return dsr_values(x, x.shape[1] if n_trials is None else n_trials)


def dsr_values(x: np.ndarray, n_trials: int) -> np.ndarray:
    """:func:`deflated_sharpe_row` of a checked, finite (n_obs, N) float64 array (no validation: the engine's path)."""
    if x.shape[0] < 4:
        return np.full(x.shape[1], np.nan)
    return dsr_from_moments(central_moments_nb(np.asfortranarray(x, dtype=np.float64)), x.shape[0], n_trials)


def dsr_from_moments(mom: np.ndarray, n_obs: int, n_trials: int) -> np.ndarray:
    """:func:`dsr_values` from each column's (4, N) mean and population central moments m2, m3, m4.

    What a backtest keeps per column instead of its returns, so that a sweep processed in chunks deflates every
    column against the same ``SR*`` as the whole matrix would.
    """
    if n_obs < 4:
        return np.full(mom.shape[1], np.nan)
    sr, skew, kurt = _shape_from_moments(mom, n_obs)
    sr_star = math.sqrt(_trial_sharpe_variance(sr, n_obs)) * _expected_max_z(n_trials)
    return np.asarray(_psr(sr, skew, kurt, n_obs, sr_star), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PBOResult:
    """Result of :func:`pbo`.

    Attributes
    ----------
    pbo : float
        Probability of backtest overfitting: the share of CSCV splits in which the configuration
        that is best in sample ranks strictly below the out-of-sample median (``logit < 0``).
    logits : numpy.ndarray
        (n_combinations,) ``log(w / (1 - w))`` of the in-sample winner's relative out-of-sample
        rank ``w = rank / (N + 1)`` (average ranks for ties, rank N = best).
    is_performance, oos_performance : numpy.ndarray
        (n_combinations,) in-sample and out-of-sample metric of the in-sample winner.
    slope : float
        OLS slope of ``oos_performance`` on ``is_performance`` (performance degradation; NaN when
        the in-sample values do not vary). Read it together with ``pbo``: when one configuration
        wins every split, its in-sample and out-of-sample halves are complementary, so the slope is
        near -1 even for a genuine edge.
    prob_oos_loss : float
        Share of splits in which the in-sample winner's out-of-sample metric is negative.
    n_combinations : int
        ``C(n_splits, n_splits / 2)``.
    """

    pbo: float
    logits: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    slope: float
    prob_oos_loss: float
    n_combinations: int


def _blocks(n_obs: int, n_splits: int) -> list[np.ndarray]:
    """Contiguous blocks; the first ``n_obs % n_splits`` blocks hold one extra observation."""
    size, extra = divmod(n_obs, n_splits)
    bounds = np.cumsum([0] + [size + (1 if b < extra else 0) for b in range(n_splits)])
    return [np.arange(bounds[b], bounds[b + 1]) for b in range(n_splits)]


def block_moments(x: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """(4, S, N): each block's mean, sum of squared deviations, lowest and highest value, per column of ``x``."""
    return np.stack(
        [
            np.stack([x[b].mean(axis=0) for b in blocks]),
            np.stack([((x[b] - x[b].mean(axis=0)) ** 2).sum(axis=0) for b in blocks]),
            np.stack([x[b].min(axis=0) for b in blocks]),
            np.stack([x[b].max(axis=0) for b in blocks]),
        ]
    )


def _sharpe_over_blocks(x: np.ndarray, blocks: list[np.ndarray], masks: np.ndarray) -> np.ndarray:
    """Sharpe ``mean / std(ddof=1)`` of every column over the union of the blocks chosen by each mask row."""
    counts = np.array([len(b) for b in blocks], dtype=np.float64)
    return _sharpe_from_moments(counts, block_moments(x, blocks), masks)


def _sharpe_from_moments(counts: np.ndarray, moments: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Sharpe ``mean / std(ddof=1)`` of every column over the union of the blocks chosen by each mask row.

    Combines per-block counts, means and sums of squared deviations (Chan et al.'s pairwise
    update), so each of the C(S, S/2) unions costs O(S N) instead of O(n_obs N). A union whose
    values are all equal (or with fewer than two observations) scores 0, so it never wins.
    """
    means, m2, lows, highs = (np.ascontiguousarray(a, dtype=np.float64) for a in moments)  # each (S, N)
    out = np.empty((masks.shape[0], means.shape[1]))
    _sharpe_unions_nb(np.asarray(counts, dtype=np.float64), means, m2, lows, highs, masks, out)
    return out


@njit(cache=True, parallel=True)
def _sharpe_unions_nb(counts, means, m2, lows, highs, masks, out):  # pragma: no cover - compiled
    """Fill ``out`` (C, N) with the Sharpe of each column over each mask row's union of blocks (see above)."""
    n_splits, n_cols = means.shape
    for c in prange(masks.shape[0]):
        for j in range(n_cols):
            n = 0.0
            total = 0.0
            lo, hi = np.inf, -np.inf
            for b in range(n_splits):
                if masks[c, b]:
                    n += counts[b]
                    total += counts[b] * means[b, j]
                    lo = min(lo, lows[b, j])
                    hi = max(hi, highs[b, j])
            if n < 2.0 or lo == hi:
                out[c, j] = 0.0
                continue
            mean = total / n
            ss = 0.0
            for b in range(n_splits):
                if masks[c, b]:
                    d = means[b, j] - mean
                    ss += m2[b, j] + counts[b] * d * d
            sharpe = mean / np.sqrt(ss / (n - 1.0))
            out[c, j] = sharpe if np.isfinite(sharpe) else 0.0


def pbo(
    returns: Any,
    n_splits: int = 16,
    *,
    metric: str | Callable[[np.ndarray], np.ndarray] = "sharpe",
) -> PBOResult:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

    The time axis is cut into ``n_splits`` contiguous blocks (the first ``n_obs % n_splits`` blocks
    one observation longer). For each of the ``C(n_splits, n_splits / 2)`` ways to pick half of the
    blocks as the out-of-sample set (the other half is in sample), the configuration with the best
    in-sample metric is found (the first one on ties) and its out-of-sample rank among all N
    configurations is turned into ``w = rank / (N + 1)`` and ``logit = log(w / (1 - w))``.
    PBO is the share of splits with ``logit < 0``: the in-sample winner lands strictly below the
    out-of-sample median. Pure noise gives PBO near 0.5 (exactly 0.5 in expectation for even N;
    for odd N the median rank, ``logit = 0``, counts as not overfit, pulling the expectation to
    ``(N - 1) / (2 N)``); a real edge that persists gives PBO near 0; selection that picks
    out-of-sample losers gives PBO near 1.

    Parameters
    ----------
    returns : array-like or pandas.DataFrame
        (n_obs, N) per-period returns of every configuration tried, time on axis 0, N >= 2, all
        finite, with at least 2 observations per block: ``n_obs >= 2 * n_splits`` (so that every
        half has a standard deviation and no block is empty).
    n_splits : int, default 16
        Number of blocks S, even and >= 2 (16 gives 12,870 splits). ``C(S, S / 2)`` may not exceed
        :data:`MAX_PBO_COMBINATIONS` (200,000: S <= 20): S = 22 would be 705,432 splits, S = 40
        137,846,528,820, more than memory holds; the check comes before anything is allocated.
    metric : {"sharpe", "mean"} or callable, default "sharpe"
        Performance metric, larger is better. ``"sharpe"``: ``mean / std`` with ``ddof=1`` (0 for a
        constant slice, so it never wins); ``"mean"``: the mean return. A callable receives an
        (n_rows, N) slice of ``returns`` and must return N finite scores.

    Returns
    -------
    PBOResult
        ``pbo`` with the per-split logits and the in-sample/out-of-sample metric of each winner.

    Raises
    ------
    TypeError
        On datetime, string or object returns, a non-integer ``n_splits``, or a ``metric`` that is
        neither a name nor a callable.
    ValueError
        On a malformed ``returns`` matrix, too few observations or columns, an odd ``n_splits`` or one
        with too many combinations, an unknown metric name, or a callable metric that returns the
        wrong shape or non-finite values.

    Notes
    -----
    Definitions match ``purgedcv.probability_of_backtest_overfitting`` (which takes the transposed
    (N, n_obs) matrix) without purging or embargo: same block layout, split order, tie rules,
    ``rank / (N + 1)`` and strict ``logit < 0``. The "sharpe" metric is computed from per-block
    moments, so its values agree with a direct computation to rounding error.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(0.0, 0.01, size=(800, 20))
    >>> result = pbo(noise, n_splits=8)
    >>> result.n_combinations, 0.2 < result.pbo < 0.8
    (70, True)
    """
    n_splits = _check_n_splits(n_splits)
    if not callable(metric):
        if not isinstance(metric, str):
            raise TypeError(expected("metric", "'sharpe', 'mean' or a callable", metric))
        choice(metric, "metric", ("sharpe", "mean"))
    x, _ = _returns_matrix(returns)
    n_obs, n_cols = x.shape
    if n_cols < 2:
        raise ValueError(expected("returns", "at least 2 configurations (columns)", f"{n_cols}", raw=True))
    if n_obs < 2 * n_splits:
        raise ValueError(
            expected(
                "returns",
                f"at least 2 observations per block ({2 * n_splits} rows for n_splits={n_splits})",
                f"{n_obs} rows",
                raw=True,
                hint="use fewer splits",
            )
        )
    blocks = _blocks(n_obs, n_splits)
    oos_mask = _oos_masks(n_splits)
    is_perf, oos_perf = _performance(x, blocks, ~oos_mask, oos_mask, metric)
    return _pbo_from_performance(is_perf, oos_perf)


def block_bounds(n_obs: int, n_splits: int) -> np.ndarray:
    """(S + 1,) int64: the first row of each CSCV block of :func:`pbo`, then ``n_obs``."""
    return np.array([b[0] for b in _blocks(n_obs, n_splits)] + [n_obs], dtype=np.int64)


def pbo_from_blocks(counts: Any, moments: Any) -> PBOResult:
    """:func:`pbo` (metric "sharpe") from each block's size and moments, without the returns matrix.

    ``counts`` (S,) are the blocks' sizes (of :func:`block_bounds`), ``moments`` (4, S, N) their
    mean, sum of squared deviations, lowest and highest value per configuration (as :func:`block_moments`
    computes them, or as ``backtest(..., pbo_splits=S)`` accumulates them in its one pass). Equal to
    :func:`pbo` on the matrix the moments came from, up to rounding.
    """
    counts = np.asarray(counts, dtype=np.float64)
    moments = np.asarray(moments, dtype=np.float64)
    oos_mask = _oos_masks(_check_n_splits(len(counts)))
    return _pbo_from_performance(
        _sharpe_from_moments(counts, moments, ~oos_mask), _sharpe_from_moments(counts, moments, oos_mask)
    )


def _check_n_splits(n_splits: Any, name: str = "n_splits") -> int:
    """An even integer >= 2 whose C(n_splits, n_splits / 2) is at most :data:`MAX_PBO_COMBINATIONS`."""
    what = "an even integer >= 2"
    n_splits = integer(n_splits, name, minimum=2, what=what)
    if n_splits % 2:
        raise ValueError(expected(name, what, n_splits))
    combos = math.comb(n_splits, n_splits // 2)
    if combos > MAX_PBO_COMBINATIONS:
        raise ValueError(
            expected(
                name,
                f"at most {MAX_PBO_COMBINATIONS:,} combinations C(n_splits, n_splits / 2) (n_splits <= 20)",
                f"{name}={n_splits}, which gives {combos:,}",
                raw=True,
            )
        )
    return n_splits


def _oos_masks(n_splits: int) -> np.ndarray:
    """(C(S, S/2), S) bool: row c marks the blocks of split c's out-of-sample half, in itertools order."""
    oos_sets = list(itertools.combinations(range(n_splits), n_splits // 2))
    mask = np.zeros((len(oos_sets), n_splits), dtype=bool)
    for c, chosen in enumerate(oos_sets):
        mask[c, list(chosen)] = True
    return mask


def _performance(
    x: np.ndarray, blocks: list[np.ndarray], is_mask: np.ndarray, oos_mask: np.ndarray, metric: Any
) -> tuple[np.ndarray, np.ndarray]:
    """In-sample and out-of-sample metric of every column in every split, each (n_combinations, N)."""
    if metric == "sharpe":
        return _sharpe_over_blocks(x, blocks, is_mask), _sharpe_over_blocks(x, blocks, oos_mask)
    if metric == "mean":
        counts = np.array([len(b) for b in blocks], dtype=np.float64)
        sums = np.stack([x[b].sum(axis=0) for b in blocks])
        return (is_mask @ sums) / (is_mask @ counts)[:, None], (oos_mask @ sums) / (oos_mask @ counts)[:, None]
    return _callable_performance(x, blocks, is_mask, metric), _callable_performance(x, blocks, oos_mask, metric)


def _callable_performance(
    x: np.ndarray, blocks: list[np.ndarray], masks: np.ndarray, metric: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """A user metric over the union of the blocks chosen by each mask row; N finite scores each time."""
    n_cols = x.shape[1]
    out = np.empty((masks.shape[0], n_cols))
    for c, mask in enumerate(masks):
        rows = np.concatenate([blocks[b] for b in np.flatnonzero(mask)])
        score = np.asarray(metric(x[rows]), dtype=np.float64)
        if score.shape != (n_cols,) or not np.isfinite(score).all():
            got = f"shape {score.shape}" if score.shape != (n_cols,) else "non-finite scores"
            what = f"{n_cols} finite scores for an (n_rows, {n_cols}) slice"
            raise ValueError(expected("metric", what, got, raw=True))
        out[c] = score
    return out


def _pbo_from_performance(is_perf: np.ndarray, oos_perf: np.ndarray) -> PBOResult:
    """Rank each split's in-sample winner out of sample and summarize (see :func:`pbo`)."""
    n_combos, n_cols = is_perf.shape
    best = np.argmax(is_perf, axis=1)  # first maximum on ties
    rows = np.arange(n_combos)
    oos_at_best = oos_perf[rows, best][:, None]
    # the average rank (1 = worst, N = best) of the winner out of sample, as scipy's rankdata gives it, without a sort
    rank = (oos_perf < oos_at_best).sum(axis=1) + ((oos_perf == oos_at_best).sum(axis=1) + 1) / 2
    omega = rank / (n_cols + 1)
    logits = np.log(omega / (1 - omega))
    is_best = is_perf[rows, best]
    oos_best = oos_perf[rows, best]
    var_is = float(np.var(is_best))
    slope = float(np.cov(is_best, oos_best, ddof=0)[0, 1] / var_is) if var_is > 0 and n_combos > 1 else math.nan
    return PBOResult(
        pbo=float(np.mean(logits < 0)),
        logits=logits,
        is_performance=is_best,
        oos_performance=oos_best,
        slope=slope,
        prob_oos_loss=float(np.mean(oos_best < 0)),
        n_combinations=n_combos,
    )
