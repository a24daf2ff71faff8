"""How many periods make a year: the annualization rule, and the event-time clock.

An explicit ``periods_per_year`` always wins. Otherwise it is inferred from a :class:`pandas.DatetimeIndex`
(in the index's own time zone, or as given when naive) by this rule:

1. **Calendar.** If any timestamp falls on a Saturday or Sunday the market trades every day: 365 days a year
   (crypto). Otherwise 252 trading days a year.
2. **Daily and slower** (at most one timestamp per calendar day): from the median gap ``D`` in days:
   ``D < 4`` daily (252 or 365), ``D < 20`` weekly (52), ``D < 60`` monthly (12), ``D < 200`` quarterly (4),
   else yearly (1).
3. **Intraday.** ``bar`` = the median gap between consecutive timestamps of the same day. The clock is
   *regular* when no two timestamps are equal, no same-day gap is shorter than ``bar`` and every same-day gap
   is a whole multiple of it (missing bars are allowed). For a regular clock,
   ``periods_per_year = days_per_year * session / bar`` where ``session`` is:

   - 6.5 hours (US equities' 09:30-16:00 regular session) when every timestamp's time of day lies in
     [09:30, 16:00]: 1-minute bars give 252 * 390 = 98,280;
   - 24 hours when the market trades every day (365);
   - otherwise the longest observed trading day (last - first timestamp of a day, plus one bar), at most 24 h.

4. **Event time** (irregular intraday timestamps, e.g. one row per order-book event): per-event returns are
   not a fixed clock, so annualizing them with any constant would be wrong. Annualized figures (annual
   return and volatility, Sharpe, Sortino, Calmar) are computed from the returns compounded onto a regular
   1-minute clock within each trading day (from the minute of the day's first event to that of its last;
   minutes without events are flat), whose periods per year follow rule 3 (US session hours give 98,280).
   Totals, drawdowns, trade counts and costs always use the original rows.

Data with no DatetimeIndex and no explicit value cannot be annualized: the annualized statistics are NaN
and an :class:`AnnualizationWarning` says so. There is no silent fallback to 252.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 10**9
US_SESSION_NS = int(6.5 * 3600 * 10**9)
EVENT_CLOCK = pd.Timedelta(minutes=1)


class AnnualizationWarning(UserWarning):
    """Annualized statistics could not be computed (or were computed on a resampled clock)."""


@dataclass(frozen=True)
class Clock:
    """The result of inferring the sampling clock of a DatetimeIndex.

    Attributes
    ----------
    periods_per_year : float
        Periods per year of the (possibly resampled) clock that annualized statistics use.
    regular : bool
        False for event time: annualized statistics come from returns resampled to ``bar``.
    bar : pandas.Timedelta or None
        The bar length (the resampling clock for event time); None for daily and slower data.
    rule : str
        A human-readable account of how the figure was inferred.
    """

    periods_per_year: float
    regular: bool
    bar: pd.Timedelta | None
    rule: str


def _days_per_year(index: pd.DatetimeIndex) -> int:
    return 365 if bool((index.day_of_week >= 5).any()) else 252


def infer_clock(index: pd.DatetimeIndex) -> Clock | None:
    """Infer the clock (and so ``periods_per_year``) of a sorted DatetimeIndex by the module's rule.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Non-decreasing timestamps.

    Returns
    -------
    Clock or None
        None when fewer than two distinct timestamps make any inference impossible.
    """
    if len(index) < 2 or index[0] == index[-1]:
        return None
    days_per_year = _days_per_year(index)
    # wall-clock nanoseconds (tz-aware indexes are read in their own zone)
    local = (index.tz_localize(None) if index.tz is not None else index).as_unit("ns")
    ns = local.asi8
    day = ns // NS_PER_DAY
    diffs = np.diff(ns)
    same_day = day[1:] == day[:-1]
    intraday = diffs[same_day]
    if intraday.size == 0:
        gap_days = float(np.median(diffs)) / NS_PER_DAY
        for limit, ppy, name in (
            (4, days_per_year, "daily"),
            (20, 52, "weekly"),
            (60, 12, "monthly"),
            (200, 4, "quarterly"),
            (np.inf, 1, "yearly"),
        ):
            if gap_days < limit:
                return Clock(float(ppy), True, None, f"{name} bars (median gap {gap_days:.3g} days): {ppy}/year")
    bar = int(np.median(intraday))
    regular = bar > 0 and int(intraday.min()) == bar and bool(np.all(intraday % bar == 0))
    if not regular:
        resampled = event_clock_index(index)
        inner = infer_clock(resampled) if len(resampled) > 1 else None
        if inner is None:
            return None
        return Clock(
            inner.periods_per_year,
            False,
            EVENT_CLOCK,
            f"event time (irregular timestamps): annualized on a 1-minute clock; {inner.rule}",
        )
    time_of_day = ns - day * NS_PER_DAY
    open_ns = int(9.5 * 3600 * 10**9)
    close_ns = 16 * 3600 * 10**9
    if time_of_day.min() >= open_ns and time_of_day.max() <= close_ns:
        session, why = US_SESSION_NS, "US equity session 09:30-16:00"
    elif days_per_year == 365:
        session, why = NS_PER_DAY, "24-hour market, 365 days"
    else:
        starts = np.r_[0, np.flatnonzero(~same_day) + 1]
        ends = np.r_[starts[1:] - 1, len(ns) - 1]
        session = min(int((ns[ends] - ns[starts]).max()) + bar, NS_PER_DAY)
        why = f"longest observed trading day {pd.Timedelta(session, unit='ns')}"
    ppy = days_per_year * session / bar
    return Clock(
        float(ppy),
        True,
        pd.Timedelta(bar, unit="ns"),
        f"{pd.Timedelta(bar, unit='ns')} bars, {why}, {days_per_year} days: {ppy:g}/year",
    )


def event_clock_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The regular 1-minute clock that event-time returns are compounded onto (see the module docstring)."""
    minutes = index.floor(EVENT_CLOCK)
    local = (minutes.tz_localize(None) if minutes.tz is not None else minutes).as_unit("ns")
    ns = local.asi8
    step = EVENT_CLOCK.value
    day = ns // NS_PER_DAY
    parts = []
    for d in np.unique(day):
        sel = ns[day == d]
        parts.append(np.arange(sel.min(), sel.max() + step, step))
    out = pd.DatetimeIndex(np.concatenate(parts).astype("datetime64[ns]"))
    return out.tz_localize(index.tz) if index.tz is not None else out


def resample_to_clock(returns: np.ndarray, index: pd.DatetimeIndex, mode: str) -> np.ndarray:
    """Compound (or add, when ``mode="additive"``) per-event returns onto the 1-minute event clock.

    Parameters
    ----------
    returns : numpy.ndarray, shape (n, m)
        Per-row returns aligned with ``index``.
    index : pandas.DatetimeIndex
        Non-decreasing event timestamps.
    mode : {"compound", "additive"}
        How returns accumulate within a bucket.

    Returns
    -------
    numpy.ndarray, shape (len(event_clock_index(index)), m)
        One return per minute; minutes without events are 0.
    """
    clock = event_clock_index(index)
    key = index.floor(EVENT_CLOCK).as_unit("ns")
    frame = pd.DataFrame(returns, copy=False)
    if mode == "compound":
        bucket = (1.0 + frame).groupby(key.asi8).prod() - 1.0
    else:
        bucket = frame.groupby(key.asi8).sum()
    out = np.zeros((len(clock), returns.shape[1]), order="F")
    pos = np.searchsorted(clock.as_unit("ns").asi8, bucket.index.to_numpy())
    out[pos] = bucket.to_numpy()
    return out


__all__ = ["AnnualizationWarning", "Clock", "event_clock_index", "infer_clock", "resample_to_clock"]
