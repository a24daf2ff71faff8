"""Returns on the clock the engine annualizes on, for tools that assume one row per period (quantstats).

The engine's rule (:mod:`signalbench.engine.periods`, ``docs/architecture.md``) decides ``periods_per_year``:
explicit, else inferred from the timestamps. Event time (irregular timestamps, repeated ones included) is
compounded onto the 1-minute event clock with :func:`~signalbench.engine.periods.resample_to_clock`, exactly as
:func:`signalbench.backtest` does for its Sharpe ratio, so any per-period statistic computed on
:attr:`ClockReturns.returns` with :attr:`ClockReturns.periods_per_year` equals the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from signalbench._validation import expected, time_index
from signalbench.engine.periods import (
    checked_periods_per_year,
    decide_clock,
    event_clock_index,
    resample_to_clock,
)

__all__ = ["ClockReturns", "bar_name", "clock_returns"]


@dataclass(frozen=True)
class ClockReturns:
    """Per-period returns on the engine's clock.

    Attributes
    ----------
    returns : pandas.DataFrame
        One row per clock period (a naive wall-clock DatetimeIndex, unique and sorted), one column per input column.
    periods_per_year : float
        What the engine annualizes these returns with.
    rule : str
        How ``periods_per_year`` was decided ("explicit" or the engine's inference rule).
    resampled : bool
        True when the rows were event time, compounded onto the 1-minute clock.
    bar : str
        The period in words: "1-minute bar", "day", "week", ...
    """

    returns: pd.DataFrame
    periods_per_year: float
    rule: str
    resampled: bool
    bar: str


def bar_name(index: pd.DatetimeIndex) -> str:
    """The clock period of a sorted, unique DatetimeIndex in words (the median gap, by calendar for slow bars)."""
    if len(index) < 2:
        return "period"
    gap = pd.Timedelta(float(np.median(np.diff(index.as_unit("ns").asi8))), unit="ns")
    for limit, name in (
        (pd.Timedelta(days=4), "day"),
        (pd.Timedelta(days=20), "week"),
        (pd.Timedelta(days=60), "month"),
    ):
        if gap >= pd.Timedelta(hours=20) and gap < limit:
            return name
    if gap >= pd.Timedelta(days=60):
        return "quarter" if gap < pd.Timedelta(days=200) else "year"
    minutes = gap / pd.Timedelta(minutes=1)
    if minutes >= 1 and float(minutes).is_integer():
        return f"{int(minutes)}-minute bar"
    return f"{gap.total_seconds():g}-second bar"


def clock_returns(returns: pd.DataFrame, periods_per_year: float | None = None, mode: str = "compound") -> ClockReturns:
    """Put per-row returns on the engine's clock (see the module docstring).

    Parameters
    ----------
    returns : pandas.DataFrame
        Per-row net returns, indexed by sorted timestamps (repeated timestamps allowed: event time).
    periods_per_year : float, optional
        The explicit value the backtest was given; None lets the engine's rule infer it from the timestamps.
    mode : {"compound", "additive"}
        How event-time returns accumulate within a minute (the backtest's ``mode``).

    Returns
    -------
    ClockReturns

    Raises
    ------
    ValueError
        The index holds no timestamps, too few to infer a clock, or repeated timestamps with an explicit
        ``periods_per_year`` (no clock to compound them onto).
    """
    times = time_index(returns.index, "returns")
    if times is None:
        raise ValueError(expected("returns", "a DatetimeIndex (a tear sheet is drawn against time)", returns.index))
    ppy, clock, note = decide_clock(checked_periods_per_year(periods_per_year), times)
    if note:
        raise ValueError(expected("returns", "timestamps the engine can infer a clock from", note, raw=True))
    if clock is not None and not clock.regular:
        values = resample_to_clock(returns.to_numpy(dtype=np.float64), times, mode)
        index = event_clock_index(times)
    else:
        values, index = returns.to_numpy(dtype=np.float64), times
    if index.has_duplicates:
        raise ValueError(
            expected(
                "returns",
                "one row per timestamp when periods_per_year is explicit",
                "repeated timestamps",
                hint="leave periods_per_year out: event time is then compounded onto the engine's 1-minute clock",
                raw=True,
            )
        )
    index = index.tz_localize(None) if index.tz is not None else index
    frame = pd.DataFrame(values, index=pd.DatetimeIndex(index), columns=returns.columns)
    rule = clock.rule if clock is not None else "explicit"
    return ClockReturns(frame, float(ppy), rule, clock is not None and not clock.regular, bar_name(frame.index))
