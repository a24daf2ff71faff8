"""The uncertainty beside report.html's headline figures: Sharpe's standard error and net return's interval.

- **Sharpe.** The standard error of Mertens (2002), which extends Lo (2002)'s i.i.d. formula to skewed and fat-tailed
  returns: for the per-bar Sharpe ``s`` on ``T`` clock bars with skewness ``g3`` and kurtosis ``g4`` (3 for a
  normal), ``se = sqrt((1 + s**2 / 2 - g3 * s + (g4 - 3) / 4 * s**2) / T)``, annualized like the Sharpe by
  ``sqrt(periods_per_year)``. ``s`` is the column's ``sharpe`` from metrics.json over ``sqrt(periods_per_year)``;
  ``T``, ``g3`` and ``g4`` come from the returns put on the engine's clock (:mod:`signalbench.reports.clock`), the
  clock the engine's Sharpe is computed on.
- **Net return.** ``total_return_additive`` (the sum of the tested rows' net returns) with a 95% block-bootstrap
  interval: the rows are cut into :data:`BLOCKS` contiguous blocks (keeping short-range dependence inside a
  block), :data:`RESAMPLES` resamples of the blocks with replacement are summed, seeded (:data:`SEED`), so a report
  rebuilt from the same folder shows the same interval.

A figure whose 95% interval holds zero is marked in the table. See ``docs/architecture.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench.reports.clock import clock_returns

__all__ = ["BLOCKS", "RESAMPLES", "SEED", "block_bootstrap_sum", "sharpe_standard_error", "uncertainty_rows"]

BLOCKS = 200
RESAMPLES = 2000
SEED = 0
_Z = 1.959963984540054  # the 97.5% quantile of the standard normal


def sharpe_standard_error(per_bar_sharpe: float, bars: int, skew: float, kurtosis: float) -> float:
    """Mertens' standard error of a per-bar Sharpe ratio (``kurtosis`` not in excess: 3 for a normal)."""
    s = per_bar_sharpe
    if bars < 2 or not np.isfinite(s):
        return float("nan")
    var = 1.0 + 0.5 * s * s - skew * s + (kurtosis - 3.0) / 4.0 * s * s
    return float(np.sqrt(max(var, 0.0) / bars))


def block_bootstrap_sum(r: np.ndarray, blocks: int = BLOCKS, resamples: int = RESAMPLES, seed: int = SEED) -> tuple:
    """The 2.5% and 97.5% quantiles of the sum of ``r`` under a seeded non-overlapping block bootstrap."""
    r = np.nan_to_num(np.asarray(r, dtype=float))
    k = max(1, min(blocks, r.size))
    sums = np.add.reduceat(r, np.linspace(0, r.size, k + 1).astype(np.int64)[:-1]) if r.size else np.zeros(1)
    draws = np.random.default_rng(seed).integers(0, sums.size, size=(resamples, sums.size))
    totals = sums[draws].sum(axis=1)
    lo, hi = np.quantile(totals, [0.025, 0.975])
    return float(lo), float(hi)


def _moments(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size < 3 or x.std() == 0:
        return 0.0, 3.0
    z = (x - x.mean()) / x.std()
    return float(np.mean(z**3)), float(np.mean(z**4))


def _fmt(v: float, fmt: str) -> str:
    return format(v, fmt) if np.isfinite(v) else "—"


def uncertainty_rows(
    returns: pd.DataFrame, metrics: dict[str, Any], columns: list[str], periods_per_year: float | None
) -> list[dict[str, Any]]:
    """Per column: Sharpe, its standard error and 95% interval, clock bars, days; net return and its interval."""
    frame = returns.set_index(pd.DatetimeIndex(returns["timestamp"]))[columns].fillna(0.0)
    cr = clock_returns(frame, periods_per_year)
    days = int(pd.DatetimeIndex(returns["timestamp"]).normalize().nunique())
    out = []
    for col in columns:
        m = metrics["columns"].get(col, {})
        sharpe = float(m["sharpe"]) if isinstance(m.get("sharpe"), int | float) else float("nan")
        on_clock = cr.returns[col].to_numpy()
        bars = int(m.get("clock_bars") or on_clock.size)
        skew, kurt = _moments(on_clock)
        se = sharpe_standard_error(sharpe / np.sqrt(cr.periods_per_year), bars, skew, kurt) * np.sqrt(
            cr.periods_per_year
        )
        net = float(m.get("total_return_additive") or 0.0)
        lo, hi = block_bootstrap_sum(returns[col].to_numpy())
        s_lo, s_hi = sharpe - _Z * se, sharpe + _Z * se
        out.append(
            {
                "column": col,
                "sharpe": _fmt(sharpe, ".2f"),
                "se": _fmt(se, ".2f"),
                "sharpe_ci": f"[{s_lo:.2f}, {s_hi:.2f}]" if np.isfinite(se) else "—",
                "sharpe_zero": bool(np.isfinite(se) and s_lo <= 0.0 <= s_hi),
                "bars": bars,
                "days": days,
                "net": _fmt(net, ".4%"),
                "net_ci": f"[{_fmt(lo, '.4%')}, {_fmt(hi, '.4%')}]",
                "net_zero": bool(lo <= 0.0 <= hi),
            }
        )
    return out
