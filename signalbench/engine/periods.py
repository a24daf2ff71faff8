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
and an :class:`AnnualizationWarning` says so. There is no silent fallback to 252. An object index of timestamps
with one UTC offset counts as a DatetimeIndex; mixed offsets are an error (``signalbench._validation.time_index``).

Short samples (:class:`ShortSampleWarning`)
-------------------------------------------
- **Sharpe.** The standard error of a per-bar Sharpe ratio estimated from T bars is about
  ``sqrt((1 + SR^2 / 2) / T)`` (Lo 2002, "The Statistics of Sharpe Ratios"), so about ``1 / sqrt(T)`` for the
  per-bar Sharpes of real strategies (well below 1). Below :data:`MIN_CLOCK_BARS` = 100 clock bars that error
  exceeds 0.1 per bar, more than the per-bar Sharpe of almost any real strategy (0.1 per day is an annualized
  1.6): the estimate cannot tell a good column from a bad one, not even its sign. ``backtest`` reports the
  number of clock bars a Sharpe rests on (the ``clock_bars`` row) and warns below the minimum, stating the
  annualized standard error ``sqrt(periods_per_year / T)`` (50 for 39 one-minute bars).
- **Annual return and Calmar.** Compounding or scaling a sample of a few days up to a year multiplies its
  noise (five days of +0.5 % a day "annualize" to several hundred percent). A sample shorter than
  :data:`MIN_SAMPLE_DAYS` = 20 days of the data's own calendar (``clock_bars / periods_per_year * days_per_year
  < 20``: trading days of a 252-day year, calendar days of a market that trades every day, rule 1 above) gets NaN
  annual returns and Calmar, with the reason in a warning; the Sharpe ratio, which scales by a square root, stays.
  With an explicit ``periods_per_year`` the calendar is still read from the DatetimeIndex (252 without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import number

NS_PER_DAY = 86_400 * 10**9
US_SESSION_NS = int(6.5 * 3600 * 10**9)
EVENT_CLOCK = pd.Timedelta(minutes=1)


#: Fewest clock bars a Sharpe ratio may rest on without a :class:`ShortSampleWarning` (see the module docstring).
MIN_CLOCK_BARS = 100
#: Fewest days a sample needs for an annual return and a Calmar ratio, counted on the data's own calendar
#: (trading days of a 252-day year; calendar days when the market trades every day).
MIN_SAMPLE_DAYS = 20


class AnnualizationWarning(UserWarning):
    """Annualized statistics could not be computed (or were computed on a resampled clock)."""


class ShortSampleWarning(UserWarning):
    """A statistic rests on too short a sample to mean much; the warning says how short and what was done."""


def checked_periods_per_year(value: Any) -> float:
    """``periods_per_year`` checked once for every engine function: a finite number > 0, or None -> NaN."""
    ppy = number(value, "periods_per_year", low=0.0, low_open=True, allow_none=True)
    return np.nan if ppy is None else ppy


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
    days_per_year : int
        The calendar: 252 trading days a year, or 365 when the market trades every day (rule 1).
    """

    periods_per_year: float
    regular: bool
    bar: pd.Timedelta | None
    rule: str
    days_per_year: int = 252


def _days_per_year(index: pd.DatetimeIndex) -> int:
    return 365 if bool((index.day_of_week >= 5).any()) else 252


def calendar_days_per_year(clock: Clock | None, times: pd.DatetimeIndex | None) -> int:
    """The calendar the sample's length is counted on: the clock's, else the index's (rule 1), else 252."""
    if clock is not None:
        return clock.days_per_year
    return _days_per_year(times) if times is not None and len(times) else 252


def short_sample_note(bars: int, periods_per_year: float, days_per_year: int) -> str | None:
    """The :class:`ShortSampleWarning` text when ``bars`` span fewer than :data:`MIN_SAMPLE_DAYS` days, else None.

    The days are counted on the data's calendar: ``bars / periods_per_year * days_per_year`` (trading days when
    ``days_per_year`` is 252, calendar days when it is 365).
    """
    days = bars / periods_per_year * days_per_year
    if not days < MIN_SAMPLE_DAYS:
        return None
    unit = "calendar days" if days_per_year == 365 else "trading days"
    return (
        f"ann_return_compound, ann_return_additive and calmar are NaN: the sample spans {days:.3g} {unit} "
        f"({bars} bars at {periods_per_year:g} a year, {days_per_year} days a year), fewer than {MIN_SAMPLE_DAYS}; "
        "a year extrapolated from it would be noise (sharpe, scaled by a square root, is kept)"
    )


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
    same_day = day[1:] == day[:-1]
    intraday = np.diff(ns)[same_day]
    if intraday.size == 0:
        return _slow_clock(float(np.median(np.diff(ns))) / NS_PER_DAY, days_per_year)
    bar = int(np.median(intraday))
    if not (bar > 0 and int(intraday.min()) == bar and bool(np.all(intraday % bar == 0))):
        resampled = event_clock_index(index)
        inner = infer_clock(resampled) if len(resampled) > 1 else None
        if inner is None:
            return None
        rule = f"event time (irregular timestamps): annualized on a 1-minute clock; {inner.rule}"
        return Clock(inner.periods_per_year, False, EVENT_CLOCK, rule, inner.days_per_year)
    session, why = _session(ns, day, same_day, bar, days_per_year)
    ppy = days_per_year * session / bar
    text = f"{duration_text(pd.Timedelta(bar, unit='ns'))} bars, {why}, {days_per_year} days a year: {ppy:g}/year"
    return Clock(float(ppy), True, pd.Timedelta(bar, unit="ns"), text, days_per_year)


def duration_text(value: pd.Timedelta) -> str:
    """A bar length in words: "1-minute", "5-second", "250-millisecond", else pandas' own text."""
    for unit, name in ((3600 * 10**9, "hour"), (60 * 10**9, "minute"), (10**9, "second"), (10**6, "millisecond")):
        if value.value >= unit and value.value % unit == 0:
            return f"{value.value // unit}-{name}"
    return str(value)


def _slow_clock(gap_days: float, days_per_year: int) -> Clock:
    """Daily and slower bars, from the median gap in days (rule 2 of the module docstring)."""
    for limit, ppy, name in (
        (4, days_per_year, "daily"),
        (20, 52, "weekly"),
        (60, 12, "monthly"),
        (200, 4, "quarterly"),
    ):
        if gap_days < limit:
            rule = f"{name} bars (median gap {gap_days:.3g} days): {ppy}/year"
            return Clock(float(ppy), True, None, rule, days_per_year)
    return Clock(1.0, True, None, f"yearly bars (median gap {gap_days:.3g} days): 1/year", days_per_year)


def _session(ns: np.ndarray, day: np.ndarray, same_day: np.ndarray, bar: int, days_per_year: int) -> tuple[int, str]:
    """The trading session in nanoseconds and why (rule 3 of the module docstring)."""
    time_of_day = ns - day * NS_PER_DAY
    open_ns = int(9.5 * 3600 * 10**9)
    close_ns = 16 * 3600 * 10**9
    if time_of_day.min() >= open_ns and time_of_day.max() <= close_ns:
        return US_SESSION_NS, "US equity session 09:30-16:00"
    if days_per_year == 365:
        return NS_PER_DAY, "24-hour market"
    starts = np.r_[0, np.flatnonzero(~same_day) + 1]
    ends = np.r_[starts[1:] - 1, len(ns) - 1]
    session = min(int((ns[ends] - ns[starts]).max()) + bar, NS_PER_DAY)
    return session, f"longest observed trading day {pd.Timedelta(session, unit='ns')}"


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


def decide_clock(periods_per_year: float, times: pd.DatetimeIndex | None) -> tuple[float, Clock | None, str]:
    """Periods per year for a backtest: explicit wins, else the DatetimeIndex rule, else NaN.

    Parameters
    ----------
    periods_per_year : float
        The checked explicit value (NaN when not given).
    times : pandas.DatetimeIndex or None
        The sorted time index of the rows, if any.

    Returns
    -------
    tuple
        ``(periods_per_year, clock, note)``: ``clock`` is None when the value was explicit or unknown; ``note``
        is the :class:`AnnualizationWarning` text when the annualized statistics must be NaN, else "".
    """
    if np.isfinite(periods_per_year):
        return periods_per_year, None, ""
    if times is None:
        return np.nan, None, _UNKNOWN
    clock = infer_clock(times)
    if clock is None:
        return np.nan, None, _TOO_FEW
    return clock.periods_per_year, clock, ""


_UNKNOWN = (
    "periods_per_year is unknown (no DatetimeIndex and no periods_per_year=): annualized statistics "
    "(ann_return_*, ann_volatility, sharpe, sortino, calmar) are NaN; the others are computed"
)
_TOO_FEW = (
    "periods_per_year could not be inferred from fewer than two distinct timestamps: annualized statistics are "
    "NaN; pass periods_per_year="
)


__all__ = [
    "MIN_CLOCK_BARS",
    "MIN_SAMPLE_DAYS",
    "AnnualizationWarning",
    "Clock",
    "ShortSampleWarning",
    "calendar_days_per_year",
    "checked_periods_per_year",
    "decide_clock",
    "duration_text",
    "event_clock_index",
    "infer_clock",
    "resample_to_clock",
    "short_sample_note",
]
