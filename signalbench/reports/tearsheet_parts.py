"""The sections of a tear sheet, each computed with quantstats' own ``stats`` and ``plots`` functions.

Every figure is annualized with the engine's ``periods_per_year`` (passed explicitly; quantstats' default of 252 is
never used) on the returns of :mod:`signalbench.reports.clock`. A section that the tested span cannot fill (a monthly
heat map of one day, a rolling 6-month window over three weeks, a CAGR over less than a year) is left out and listed
with the reason, instead of being drawn empty or printed as noise. Per-period figures are named after the clock's
period ("per 1-minute bar"), never "daily" unless the period is a day. See ``docs/architecture.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from signalbench.reports.clock import ClockReturns

__all__ = [
    "FONT",
    "MAX_POINTS",
    "Sections",
    "drawdown_table",
    "figures",
    "metric_rows",
    "span_counts",
    "trading_days",
]

#: The font every quantstats figure is drawn with (ships with matplotlib; quantstats' default, Arial, may not exist).
FONT = "DejaVu Sans"
#: Charts of longer series are drawn from returns compounded onto coarser calendar buckets (statistics use every bar).
MAX_POINTS = 10_000
_SLOW = ("day", "week", "month", "quarter", "year")
_BUCKETS = ("5min", "15min", "1h", "1D", "7D")


@dataclass
class Sections:
    """What a tear sheet shows: metric rows, figures (title, data URI), left-out sections (name, reason)."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    omitted: list[tuple[str, str]] = field(default_factory=list)
    drawdowns: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def span_counts(index: pd.DatetimeIndex) -> dict[str, int]:
    """Distinct calendar days, months and years the clock's periods fall on."""
    return {
        "days": int(index.normalize().nunique()),
        "months": int(index.to_period("M").nunique()),
        "years": int(index.year.nunique()),
    }


def _compound_by(r: pd.Series, key: Any) -> pd.Series:
    """Returns compounded within each group of ``key`` (calendar days, months, ...)."""
    return (1.0 + r).groupby(key).prod() - 1.0


def _fmt(v: Any, kind: str) -> str:
    """A table cell: percent (three decimals, or three significant digits below 0.001 %), ratio or count."""
    v = float(v)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if kind == "pct":
        return f"{v:.3%}" if v == 0 or abs(v) >= 1e-5 else f"{v * 100:.3g}%"
    return {"ratio": f"{v:.3f}", "count": f"{v:.0f}"}[kind]


def metric_rows(qs: Any, cr: ClockReturns, col: str, bench: str | None, sec: Sections) -> None:
    """The key-metrics table (column and benchmark side by side); CAGR, Calmar and expected returns when meaningful."""
    ppy, bar, frame = cr.periods_per_year, cr.bar, cr.returns
    counts, years = span_counts(frame.index), len(frame) / ppy
    rows: list[tuple[str, Callable[[pd.Series], Any], str]] = [
        ("Total return (compounded)", qs.stats.comp, "pct"),
        (f"Sharpe (annualized, {ppy:g} {bar}s a year)", lambda r: qs.stats.sharpe(r, periods=ppy), "ratio"),
        ("Sortino (annualized)", lambda r: qs.stats.sortino(r, periods=ppy), "ratio"),
        ("Volatility (annualized)", lambda r: qs.stats.volatility(r, periods=ppy), "pct"),
        ("Max drawdown" + (f" (on {bar}s)" if cr.resampled else ""), qs.stats.max_drawdown, "pct"),
    ]
    if years >= 1:
        rows += [
            ("CAGR", lambda r: qs.stats.cagr(r, periods=ppy), "pct"),
            ("Calmar", lambda r: qs.stats.calmar(r, periods=ppy), "ratio"),
        ]
    else:
        sec.omitted.append(
            (
                "CAGR and Calmar",
                f"the tested span is {years:.3g} of a year ({len(frame)} {bar}s at {ppy:g} a year); "
                "compounding less than a year up to one would print noise",
            )
        )
    rows.append((f"Expected return per {bar} (geometric mean)", qs.stats.expected_return, "pct"))
    for unit, key, n in (
        ("day", "D", counts["days"]),
        ("month", "M", counts["months"]),
        ("year", "Y", counts["years"]),
    ):
        if bar in _SLOW[_SLOW.index(unit) :]:
            continue  # the clock's own period, or coarser
        adjective = {"day": "daily", "month": "monthly", "year": "yearly"}[unit]
        if n >= 2:
            rows.append(
                (f"Expected {adjective} return ({n} calendar {unit}s, geometric mean)", _expected_by(qs, key), "pct")
            )
        else:
            sec.omitted.append((f"Expected {adjective} return", f"the tested span covers {n} calendar {unit}"))
    rows += _distribution_rows(qs, bar)
    for label, fn, kind in rows:
        values = [_fmt(fn(frame[c]), kind) for c in ([col, bench] if bench else [col])]
        sec.rows.append((label, values[0], values[1] if bench else ""))


def _expected_by(qs: Any, key: str) -> Callable[[pd.Series], Any]:
    def fn(r: pd.Series) -> Any:
        return qs.stats.expected_return(_compound_by(r, r.index.to_period(key)), prepare_returns=False)

    return fn


def _distribution_rows(qs: Any, bar: str) -> list[tuple[str, Callable[[pd.Series], Any], str]]:
    return [
        (f"Win rate ({bar}s with a gain among those with a non-zero return)", qs.stats.win_rate, "ratio"),
        (f"Best {bar}", qs.stats.best, "pct"),
        (f"Worst {bar}", qs.stats.worst, "pct"),
        (f"Value at risk (95%, one {bar})", qs.stats.value_at_risk, "pct"),
        (f"Expected shortfall (95%, one {bar})", qs.stats.cvar, "pct"),
        ("Skew", qs.stats.skew, "ratio"),
        ("Kurtosis", qs.stats.kurtosis, "ratio"),
        ("Profit factor", qs.stats.profit_factor, "ratio"),
        ("Payoff ratio (average gain / average loss)", qs.stats.payoff_ratio, "ratio"),
        ("Tail ratio (95th / 5th percentile)", qs.stats.tail_ratio, "ratio"),
        (f"Longest run of winning {bar}s", qs.stats.consecutive_wins, "count"),
        (f"Longest run of losing {bar}s", qs.stats.consecutive_losses, "count"),
    ]


def drawdown_table(qs: Any, r: pd.Series, top: int = 5) -> list[dict[str, str]]:
    """The ``top`` deepest drawdowns of ``r`` with timestamps (quantstats' own table counts whole days only)."""
    dd = qs.stats.to_drawdown_series(r).to_numpy()
    under = dd < 0
    if not under.any():
        return []
    starts = np.flatnonzero(under & ~np.r_[False, under[:-1]])
    ends = np.flatnonzero(under & ~np.r_[under[1:], False])
    out = []
    for s, e in zip(starts, ends):
        valley = s + int(np.argmin(dd[s : e + 1]))
        recovered = e + 1 < len(dd)
        out.append((dd[valley], s, valley, e + 1 if recovered else None))
    idx = r.index
    rows = []
    for depth, s, v, rec in sorted(out)[:top]:
        rows.append(
            {
                "start": str(idx[s]),
                "valley": str(idx[v]),
                "recovered": str(idx[rec]) if rec is not None else "not recovered",
                "length": _duration(idx[rec if rec is not None else -1] - idx[s]),
                "depth": f"{depth:.3%}",
            }
        )
    return rows


def _duration(value: pd.Timedelta) -> str:
    """``3 days 02:34`` or ``02:34:00``: a drawdown's length without pandas' "0 days" prefix."""
    days, rest = divmod(int(value.total_seconds()), 86_400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return f"{days} day{'s' if days != 1 else ''} {clock}" if days else f"{clock}:{rest % 60:02d}"


def _plot_frame(cr: ClockReturns, sec: Sections) -> pd.DataFrame:
    """The returns charts are drawn from: the clock's, or compounded onto the finest bucket giving few enough points."""
    frame = cr.returns
    if len(frame) <= MAX_POINTS:
        return frame
    for freq in _BUCKETS:
        grouped = frame.groupby(frame.index.floor(freq))
        if grouped.ngroups <= MAX_POINTS:
            break
    out = (1.0 + frame).groupby(frame.index.floor(freq)).prod() - 1.0
    sec.notes.append(
        f"The charts are drawn from returns compounded onto {freq} buckets ({len(out)} points instead of "
        f"{len(frame)} {cr.bar}s; drawdowns within a bucket are not drawn); the tables use every {cr.bar}."
    )
    return out


def figures(qs: Any, cr: ClockReturns, col: str, bench: str | None, sec: Sections) -> None:
    """Every chart the span supports, drawn by quantstats with DejaVu Sans; the others listed with the reason."""
    frame = _plot_frame(cr, sec)
    r, b = frame[col], (frame[bench] if bench else None)
    common = {"fontname": FONT, "show": False}
    draw = [("Cumulative return", lambda: qs.plots.returns(r, b, subtitle=False, figsize=(9, 4.5), **common))]
    draw.append(
        (
            "Drawdown (underwater; dashed red: its average)",
            lambda: qs.plots.drawdown(r, subtitle=False, figsize=(9, 3.5), **common),
        )
    )
    _daily_figures(qs, cr, frame, col, bench, sec, draw, common)
    _long_figures(qs, cr, frame, col, bench, sec, draw, common)
    for title, make in draw:
        sec.figures.append((title, _png(make())))


def _png(fig: Any) -> str:
    """The figure as a PNG data URI, cropped to its content, with exact percent ticks.

    quantstats' percent axes round (or truncate) to whole percents, so a drawdown of -0.4 % would be ticked "-0%" at
    every line and a histogram's -0.5 % and 0.4 % both "0%"; every percent axis gets matplotlib's exact one.
    """
    import base64
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    for axis in (a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)):
        formatter = axis.get_major_formatter()
        if isinstance(formatter, FuncFormatter) and str(formatter.func(0.5, 0)).endswith("%"):
            axis.set_major_formatter(PercentFormatter(xmax=1.0))
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _daily_figures(qs, cr, frame, col, bench, sec, draw, common) -> None:
    """Daily returns and their distribution: from returns compounded per calendar day, when there are enough days."""
    counts = span_counts(cr.returns.index)
    if counts["days"] < 2:
        reason = f"the tested span covers {counts['days']} calendar day"
        sec.omitted.append(("Daily returns (cumulative sum) and their distribution", reason))
        return
    daily = _compound_by(cr.returns, cr.returns.index.normalize())
    d, db = daily[col], (daily[bench] if bench else None)
    # not qs.plots.daily_returns: it resamples the running sum to calendar days and sums each day, so every weekend
    # and holiday drops the line to 0
    draw.append(
        (
            "Daily returns (cumulative sum)",
            lambda: qs.plots.returns(d, db, compound=False, ylabel="Sum of daily returns", subtitle=False, **common),
        )
    )
    if counts["days"] >= 20:
        draw.append(("Distribution of daily returns", lambda: _histogram(qs, d, db, common)))
    else:
        sec.omitted.append(("Distribution of daily returns", f"{counts['days']} days are too few for a histogram"))


def _long_figures(qs, cr, plotted, col, bench, sec, draw, common) -> None:
    """Rolling 6-month ratios (a year of periods), monthly heat map (2+ months), yearly returns (2+ years).

    The rolling lines are computed on the returns the charts are drawn from (``plotted``: the clock's, or coarser
    buckets for long series), with the window and the annualization scaled to that many points a year.
    """
    ppy, frame = cr.periods_per_year, cr.returns
    window = int(round(ppy / 2))
    r, b = frame[col], (frame[bench] if bench else None)
    if len(frame) >= 2 * window and window >= 2:
        scale = len(plotted) / len(frame)
        pr, pb = plotted[col], (plotted[bench] if bench else None)
        kw = {"period": max(2, int(round(window * scale))), "period_label": "6 months", "subtitle": False, **common}
        kw["periods_per_year"] = ppy * scale
        draw.append(("Rolling volatility (6 months)", lambda: qs.plots.rolling_volatility(pr, pb, **kw)))
        draw.append(("Rolling Sharpe (6 months)", lambda: qs.plots.rolling_sharpe(pr, pb, **kw)))
        draw.append(("Rolling Sortino (6 months)", lambda: qs.plots.rolling_sortino(pr, pb, **kw)))
    else:
        sec.omitted.append(
            (
                "Rolling volatility, Sharpe and Sortino (6 months)",
                f"a 6-month window is {window} {cr.bar}s and the tested span has {len(frame)}: a rolling line needs "
                "at least a year",
            )
        )
    counts = span_counts(frame.index)
    if len(frame) > MAX_POINTS:  # calendar months and years compound exactly from calendar days
        days = _compound_by(frame, frame.index.normalize())
        r, b = days[col], (days[bench] if bench else None)
    if counts["months"] >= 2:
        draw.append(
            ("Monthly returns (%)", lambda: qs.plots.monthly_heatmap(r, returns_label=col, fontname=FONT, show=False))
        )
    else:
        sec.omitted.append(("Monthly returns heat map", f"the tested span covers {counts['months']} calendar month"))
    if counts["years"] >= 2:
        draw.append(("Returns per year (dashed red: their mean)", lambda: _yearly(qs, r, b, common)))
    else:
        sec.omitted.append(("Year-over-year returns", f"the tested span covers {counts['years']} calendar year"))


def _yearly(qs: Any, r: pd.Series, b: pd.Series | None, common: dict[str, Any]) -> Any:
    """The calendar-year bars of quantstats, one tick label per year under its bars.

    quantstats labels the bar plot's automatic ticks with the years in order, so with current matplotlib the
    labels fall between bars and skip years (2016 under the bars of 2017); the ticks are set on the bars here.
    """
    fig = qs.plots.yearly_returns(r, b, subtitle=False, **common)
    years = sorted(set(r.index.year))
    ax = fig.axes[0]
    centers = sorted({round(p.get_x() + p.get_width() / 2) for p in ax.patches})  # one group of bars per year
    if len(centers) == len(years):
        ax.set_xticks(centers, [str(y) for y in years], rotation=0)
    return fig


def trading_days(index: pd.DatetimeIndex) -> pd.offsets.CustomBusinessDay:
    """A day frequency whose only days are those of ``index`` (normalized): resampling to it adds no empty day."""
    missing = pd.date_range(index[0], index[-1], freq="D").difference(index)
    return pd.offsets.CustomBusinessDay(weekmask="Mon Tue Wed Thu Fri Sat Sun", holidays=list(missing))


def _histogram(qs: Any, d: pd.Series, db: pd.Series | None, common: dict[str, Any]) -> Any:
    """The histogram of daily returns by quantstats, its y axis named for what it shows (a density, not a count)."""
    # resampling to calendar days would add every weekend and holiday as a 0 % day; a business-day calendar whose
    # holidays are exactly the days without data keeps the trading days, one bucket each
    fig = qs.plots.histogram(d, db, resample=trading_days(d.index), subtitle=False, **common)
    for ax in fig.axes:
        if ax.get_ylabel() == "Occurrences":
            ax.set_ylabel("Density", fontname=FONT, fontweight="bold", fontsize=12)
    return fig
