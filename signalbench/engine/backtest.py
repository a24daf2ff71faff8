"""The one wrapper around the kernels: check the inputs, simulate, summarize, give pandas back.

See :func:`backtest` for the conventions (``docs/architecture.md``); :mod:`signalbench.engine.kernels`
implements them, :mod:`signalbench.engine._inputs` checks and converts the inputs and
:mod:`signalbench.engine.summary` builds the statistics table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from signalbench._validation import choice, did_you_mean, expected, time_index
from signalbench.engine._inputs import (
    Costs,
    Options,
    Template,
    align,
    as_2d,
    as_costs,
    as_price,
    check_options,
    check_positions,
    wrap_like,
)
from signalbench.engine.handoff import to_vectorbt
from signalbench.engine.periods import AnnualizationWarning, Clock, calendar_days_per_year, decide_clock
from signalbench.engine.plot import plot_result
from signalbench.engine.selection import PBOResult, _check_n_splits, block_bounds, pbo_from_blocks
from signalbench.engine.summary import Accumulated, Notes, Selection, Simulation, oracle_totals, stats_table
from signalbench.engine.sweep import (
    LAZY_HELP,
    accumulate,
    chunk_width,
    eager_chunks,
    is_lazy,
    lazy_chunks,
    memory_bytes,
)
from signalbench.engine.trades import Priced, trades_frame

#: What ``backtest(keep=...)`` accepts: every series, or the statistics only (no (n, m) array).
KEEP = ("all", "stats")


@dataclass
class BacktestResult:
    """Everything :func:`backtest` computed; arrays are (n, m) Fortran-ordered, or pandas for pandas input.

    Attributes
    ----------
    returns, gross_returns, costs, exposure, equity, drawdown
        Net returns ``r``, gross returns ``g``, costs ``c``, executed exposure ``e`` (after ``delay``), equity
        and drawdown, per bar and column (see :mod:`signalbench.engine.kernels` for the formulas); None with
        ``keep="stats"``.
    stats : pandas.DataFrame
        One column per position column; rows :data:`signalbench.engine.stats.STAT_ROWS` (and
        ``deflated_sharpe`` when there was a selection to deflate).
    periods_per_year : float
        What the annualized statistics used (NaN if unknown).
    clock : str
        How ``periods_per_year`` was decided.
    mode : str
        "compound" or "additive".
    benchmarks : list
        The column labels marked as benchmarks: priced like every column, not trials of the deflated Sharpe.
    n_trials : int or None
        The number of trials the ``deflated_sharpe`` row accounts for; None when there is no such row.
    notes : list of str
        Every warning the backtest issued (unknown clock, short sample, empty exposure, ...), in order, so that
        a program (the experiment runner, a report) can show them.
    params : dict
        The costs, delay and close the columns were priced with.
    trades : pandas.DataFrame
        The round trips of every column (computed on first access; :mod:`signalbench.engine.trades`).
    priced : signalbench.engine.trades.Priced or None
        The checked prices, simulated series, costs and labels, kept (no copy) for ``trades`` and
        :meth:`to_vectorbt`; None for a result built by hand.
    pbo : signalbench.engine.selection.PBOResult or None
        The probability of backtest overfitting of the trial columns (``pbo_splits`` given), else None.
    """

    returns: Any
    gross_returns: Any
    costs: Any
    exposure: Any
    equity: Any
    drawdown: Any
    stats: pd.DataFrame
    periods_per_year: float
    clock: str
    mode: str
    benchmarks: list[Any] = field(default_factory=list)
    n_trials: int | None = None
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    priced: Priced | None = field(default=None, repr=False, compare=False)
    pbo: PBOResult | None = field(default=None, repr=False)

    @property
    def trades(self) -> pd.DataFrame:
        """One row per round trip of every column, computed on first access (``backtest`` pays nothing for it).

        Columns: ``column`` (the position column's label), ``entry_row``, ``exit_row``, ``entry_time`` and
        ``exit_time`` (index labels; the rows for NumPy input), ``side`` (+1 long, -1 short), ``entry_size``,
        ``size`` (largest |exposure|), ``adjustments`` (partial entries and exits), ``entry_price``,
        ``exit_price``, ``bars_held``, ``gross_pnl``, ``costs``, ``net_pnl`` (additive, fractions of equity) and
        ``is_open``. :mod:`signalbench.engine.trades` documents how a trade opens, closes, is resized or stays
        open; per column, ``net_pnl`` adds up to ``stats.loc["total_return_additive"]``.
        """
        priced = self._priced()
        if priced.trades is None:
            priced.trades = trades_frame(priced)
        return priced.trades

    def to_vectorbt(self, **kwargs: Any) -> Any:
        """The same backtest as a ``vectorbt.Portfolio`` (``Portfolio.from_orders``; extra ``signalbench[vectorbt]``).

        Built on the prices and the executed exposure of this backtest, with the all-in cost per unit as
        vectorbt's ``fees``; ``kwargs`` go to ``from_orders``. Equal returns and compounded equity without
        costs; with costs vectorbt pays for rebalancing drift on its target-percent orders and takes fees out of
        the order, where signalbench holds a constant-notional exposure and pays only when it changes:
        :mod:`signalbench.engine.handoff` says exactly where and by how much they differ.

        Raises
        ------
        ImportError
            vectorbt is not installed.
        """
        return to_vectorbt(self._priced(), **kwargs)

    def plot(self, columns: list[Any] | None = None) -> Any:
        """Equity and drawdown of ``columns`` (default: all) against the benchmarks, as a ``matplotlib`` Figure.

        Benchmarks (the oracles, buy-and-hold) are dashed; see :mod:`signalbench.engine.plot`.

        Raises
        ------
        ValueError
            A label of ``columns`` is not a column of the result.
        """
        return plot_result(self, columns)

    def _priced(self) -> Priced:
        """What :func:`backtest` priced; a result built by hand, or with ``keep="stats"``, has nothing to hand over."""
        if self.priced is None:
            raise ValueError(
                expected(
                    "BacktestResult",
                    "a result made by backtest() with its series",
                    "one without them",
                    raw=True,
                    hint='keep="stats" keeps the statistics only: run backtest(..., keep="all") for trades and plots',
                )
            )
        return self.priced

    def __repr__(self) -> str:
        n = len(self.stats.columns)
        return f"BacktestResult({n} column{'s' if n != 1 else ''}, mode={self.mode!r}, clock={self.clock!r})"


def backtest(
    price: Any,
    position: Any,
    *,
    fee_bps: Any = 0.0,
    half_spread_bps: Any = 0.0,
    slippage_bps: Any = 0.0,
    delay: int = 0,
    mode: Literal["compound", "additive"] = "compound",
    periods_per_year: float | None = None,
    close_at_end: bool = False,
    max_leverage: float = 1.0,
    benchmarks: Any = None,
    n_trials: int | None = None,
    keep: Literal["all", "stats"] = "all",
    memory: int | str = "1GB",
    pbo_splits: int | None = None,
) -> BacktestResult:
    """Mark target positions to market with costs and latency; return PnL series and statistics.

    Conventions (exact; ``docs/architecture.md``), per column, with per-unit cost
    ``k[t] = (fee_bps + half_spread_bps[t] + slippage_bps) / 1e4``:

    - executed exposure ``e[t] = position[t - delay]`` for ``t >= delay``, else 0 (``e[-1] = 0``);
    - gross return ``g[0] = 0``, ``g[t] = e[t-1] * (price[t] / price[t-1] - 1)``;
    - cost ``c[t] = |e[t] - e[t-1]| * k[t]`` (a reversal from +1 to -1 pays twice);
    - net return ``r[t] = g[t] - c[t]``;
    - equity ``cumprod(1 + r)`` (``mode="compound"``) or ``1 + cumsum(r)`` (``mode="additive"``: constant
      notional, "trade one unit");
    - drawdown ``equity / running_max(1, equity) - 1``;
    - the last position stays open unless ``close_at_end=True``, which makes the last bar flat (paying to close).

    Parameters
    ----------
    price : array-like, Series or DataFrame, shape (n,) or (n, m)
        Finite prices > 0. One column is shared by every position column. A time index (a DatetimeIndex, or
        timestamps with one UTC offset) must be sorted; so must that of ``position`` and of per-row costs.
    position : array-like, Series or DataFrame, shape (n,) or (n, m); or lazy column chunks
        Target exposure as a fraction of equity decided at bar t from information up to t; finite, with
        ``|position| <= max_leverage``. One column is applied to every price column. With ``keep="stats"`` it
        may come lazily (one price column, scalar or per-row costs): an iterator of (n, k) chunks, or a callable
        ``make(width)`` returning an iterable of chunks of at most ``width`` columns, the width ``memory``
        allows (e.g. :func:`signalbench.strategies.grid_chunks`); the columns are numbered on across chunks
        (or keep the chunks' DataFrame labels).
    fee_bps, slippage_bps : float or sequence of length m
        Costs in basis points per unit of exposure traded: a scalar or one value per column.
    half_spread_bps : float, sequence of length m, array of length n, or (n, m) array
        Half the quoted spread in basis points: scalar, per column, per row (e.g. an order book's quoted
        half-spread, a Series on the price index) or per cell.
    delay : int, default 0
        Latency in bars between the decision and its execution.
    mode : {"compound", "additive"}, default "compound"
        How returns accumulate into equity.
    periods_per_year : float, optional
        Explicit annualization; otherwise inferred from a DatetimeIndex
        (:mod:`signalbench.engine.periods` documents the rule, event time included). Without either, the
        annualized statistics are NaN and an :class:`AnnualizationWarning` is issued.
    close_at_end : bool, default False
        Close the position on the last bar.
    max_leverage : float, default 1.0
        The largest |position| accepted.
    benchmarks : label or list of labels, optional
        Position columns that are benchmarks (naive oracle, cost-aware oracle, buy-and-hold): priced like
        every column, but not trials of the deflated Sharpe (their ``deflated_sharpe`` is NaN).
    n_trials : int, optional
        The number of configurations tried to arrive at the trial columns, if more than were passed (a grid
        of 50 tried elsewhere is 50 trials even if 3 columns are backtested); at least the number of trial
        columns. Given, the ``deflated_sharpe`` row is present even for one column.
    keep : {"all", "stats"}, default "all"
        ``"stats"``: allocate no (n, m) series (they are None in the result; ``trades``, ``plot`` and
        ``to_vectorbt`` need ``"all"``) and process the columns in chunks sized to ``memory``, so a sweep of any
        width runs in O(n x chunk) memory. The ``stats`` table and the notes are identical to ``"all"``'s.
    memory : int or str, default "1GB"
        The budget for one chunk with ``keep="stats"``, in bytes or as ``"512MB"``, ``"2GiB"``, ...
    pbo_splits : int, optional
        Also compute the probability of backtest overfitting of the trial columns (benchmarks left out) with this
        many CSCV blocks S (even, C(S, S/2) <= 200,000), on the rows' net returns and the Sharpe metric: equal to
        :func:`signalbench.engine.selection.pbo` on ``returns`` of the trial columns, up to rounding, and
        identical under ``keep="all"`` and ``keep="stats"``: the one pass keeps each block's moments (a few
        numbers per block and column), so a sweep larger than memory gets its PBO too (``result.pbo``). Needs at
        least 2 trial columns and ``2 * S`` rows.

    Returns
    -------
    BacktestResult
        Series and statistics; pandas objects (with the inputs' index and columns) when an input was pandas.

    Raises
    ------
    TypeError
        A wrong kind: datetimes, timedeltas, strings or objects where numbers are expected (naming the argument
        and column), a non-integer ``delay`` or ``n_trials``, a non-bool ``close_at_end``, a non-number
        ``max_leverage`` or ``periods_per_year``, ``benchmarks`` that are not labels.
    ValueError
        A wrong value: non-finite or non-positive prices, non-finite positions, |position| above
        ``max_leverage``, shapes or pandas labels that do not line up, a time index out of order (or with mixed
        UTC offsets), negative or non-finite costs, a negative delay, an unknown mode or benchmark column,
        ``n_trials`` below the number of trial columns.

    Warns
    -----
    AnnualizationWarning
        ``periods_per_year`` is unknown: the annualized rows are NaN.
    ShortSampleWarning
        The Sharpe rests on fewer than 100 clock bars, or the sample spans fewer than 20 days of its calendar (annual
        returns and Calmar are then NaN); :mod:`signalbench.engine.periods` says why.
    signalbench._validation.EmptyResultWarning
        Nothing was traded: ``delay`` covers every row, a single row, or columns that never hold a position.

    Every warning is also kept in ``BacktestResult.notes``.

    Notes
    -----
    ``stats`` rows (:data:`signalbench.engine.stats.STAT_ROWS`); every return row names its basis:
    ``total_return_compound`` (``prod(1 + r) - 1``) and ``total_return_additive`` (``sum(r)``),
    ``oracle_return_additive`` (the total additive net return of :func:`oracle_positions` under the same
    prices, costs, delay and close) and right after it ``signal_efficiency`` = ``total_return_additive /
    oracle_return_additive`` (never above 1); ``ann_return_compound``, ``ann_return_additive``,
    ``ann_volatility``, ``sharpe``, ``sortino`` (see :mod:`signalbench.engine.stats`), ``calmar`` and
    ``max_drawdown`` (of ``equity``, i.e. in ``mode``); ``clock_bars`` (the number of returns the annualized
    figures rest on: the rows, or the 1-minute bars of event time); ``n_trades`` (bars at which the executed
    exposure changed), ``turnover`` (sum of |e[t] - e[t-1]|), ``exposure_time`` (share of bars with e != 0),
    ``cost_paid`` (sum of c), ``hit_rate`` (share of bars holding an exposure whose net return was > 0),
    ``profit_factor`` (sum of positive r / -sum of negative r; inf without losses), ``breakeven_cost_bps``
    (the uniform all-in cost per unit traded, in bps, at which the total additive net return would be zero:
    ``1e4 * sum(g) / turnover``; negative when the signal loses before costs), ``periods_per_year``; and, when
    there is a selection (more than one trial column, or ``n_trials`` given), ``deflated_sharpe``: each trial
    column's probabilistic Sharpe ratio against the Sharpe the best of ``n_trials`` skill-less trials would show
    (Bailey and Lopez de Prado 2014; :func:`signalbench.engine.selection.deflated_sharpe_row`), computed on the
    same clock and returns as ``sharpe``, from the trial columns only; NaN for benchmarks and with fewer than 4
    clock bars.
    """
    opts = check_options(delay, mode, periods_per_year, close_at_end, max_leverage, n_trials)
    keep = choice(keep, "keep", KEEP)
    budget = memory_bytes(memory)
    splits = None if pbo_splits is None else _check_n_splits(pbo_splits, "pbo_splits")
    costs = (fee_bps, half_spread_bps, slippage_bps)
    return priced(price, position, costs, opts, keep=keep, budget=budget, splits=splits, benchmarks=benchmarks)


def priced(
    price: Any,
    position: Any,
    raw_costs: tuple[Any, Any, Any],
    opts: Options,
    *,
    keep: str = "all",
    budget: int = 1 << 30,
    splits: int | None = None,
    benchmarks: Any = None,
    oracle: np.ndarray | None = None,
    stacklevel: int = 3,
) -> BacktestResult:
    """:func:`backtest` on checked options (``check_options``; ``keep``, ``budget`` and ``splits`` checked too).

    ``oracle``: the (m,) totals of the ``oracle_return_additive`` row, given by a caller that prices the columns
    under a cost model of its own and computes its own oracle (:func:`signalbench.engine.book.book_backtest`);
    the cost-aware oracle of ``raw_costs`` is then not computed. Only with ``keep="all"`` and array positions.
    ``stacklevel``: the frame the warnings blame, counted from this function.
    """
    if oracle is not None and (keep != "all" or is_lazy(position)):
        raise ValueError(expected("oracle", "keep='all' and array positions", f"keep={keep!r}", raw=True))
    if is_lazy(position):
        run = _run_lazy(price, position, raw_costs, opts, keep, budget, splits)
    else:
        run = _run_eager(price, position, raw_costs, opts, keep, budget, splits, benchmarks, oracle)
    sim, summed, p2, costs, template, (ppy, rule, note, days) = run
    selection = _selection(benchmarks, opts.n_trials, template.columns)
    overfit = None if splits is None else _pbo(summed, selection, p2.shape[0], splits)
    notes = Notes()
    if note:
        notes.add(AnnualizationWarning, note)
    stats = stats_table(summed, opts, ppy, selection, template.columns, notes, days)
    messages = notes.issue(stacklevel=stacklevel)
    return BacktestResult(
        *(wrap_like(getattr(sim, name), template) if sim is not None else None for name in _SERIES),
        stats=stats,
        periods_per_year=ppy,
        clock=rule,
        mode=opts.mode,
        benchmarks=[c for c, t in zip(template.columns, selection.trials) if not t],
        n_trials=selection.dsr_trials,
        notes=messages,
        priced=Priced(p2, sim, costs, template) if sim is not None else None,
        pbo=overfit,
        params={
            "fee_bps": raw_costs[0],
            "half_spread_bps": raw_costs[1],
            "slippage_bps": raw_costs[2],
            "delay": opts.delay,
            "close_at_end": opts.close_at_end,
        },
    )


_SERIES = ("returns", "gross_returns", "costs", "exposure", "equity", "drawdown")


_Run = tuple[Simulation | None, Accumulated, np.ndarray, Costs, Template, tuple[float, str, str, int]]


def _run_eager(
    price: Any,
    position: Any,
    raw_costs: tuple[Any, Any, Any],
    opts: Options,
    keep: str,
    budget: int,
    splits: int | None,
    benchmarks: Any,
    oracle: np.ndarray | None = None,
) -> _Run:
    """Check array inputs and price them: in one pass writing the series, or in chunks keeping the statistics."""
    p2, ptmpl = as_price(price)
    q2, qtmpl = as_2d(position, "position")
    template = align(ptmpl, qtmpl, p2.shape, q2.shape)
    check_positions(q2, template, opts.max_leverage)
    n, m = p2.shape[0], max(p2.shape[1], q2.shape[1])
    bounds = _pbo_bounds(n, splits)
    if splits is not None:  # refused before anything is priced
        _check_pbo_trials(_selection(benchmarks, opts.n_trials, template.columns))
    costs = as_costs(*raw_costs, n, m, template.index)
    clock = _clock(template, opts)
    times = (clock[3], clock[4])
    if keep == "all":
        sim, summed = accumulate(p2, q2, costs, opts, times, write=True, oracle=oracle, bounds=bounds)
        return sim, summed, p2, costs, template, _calendar(clock)
    shared = p2.shape[1] == 1 and costs.shared
    oracle = float(oracle_totals(p2, costs, opts, 1)[0]) if shared else None
    event_time = times[0] is not None and not times[0].regular
    width = chunk_width(n, budget, lazy=False, event_time=event_time, per_column_oracle=not shared)
    parts = [
        accumulate(p, q, c, opts, times, write=False, oracle=oracle, bounds=bounds)[1]
        for p, q, c in eager_chunks(p2, q2, costs, width)
    ]
    return None, Accumulated.concat(parts), p2, costs, template, _calendar(clock)


def _run_lazy(
    price: Any,
    position: Any,
    raw_costs: tuple[Any, Any, Any],
    opts: Options,
    keep: str,
    budget: int,
    splits: int | None,
) -> _Run:
    """Price lazily generated column chunks one at a time, keeping their statistics and labels only."""
    if keep != "stats":
        raise TypeError(
            expected(
                "position",
                "an array, Series or DataFrame with keep='all'",
                position,
                hint=f'{LAZY_HELP} needs keep="stats"',
            )
        )
    p2, ptmpl = as_price(price)
    n = p2.shape[0]
    bounds = _pbo_bounds(n, splits)
    for name, value in zip(("fee_bps", "half_spread_bps", "slippage_bps"), raw_costs):
        if np.ndim(value) > 1 or (np.ndim(value) == 1 and len(value) != n):
            raise ValueError(
                expected(
                    name,
                    f"a scalar or per-row cost (length {n}) with lazy positions",
                    value,
                    hint="the number of columns is not known in advance: pass an array to price columns at other costs",
                )
            )
    costs = as_costs(*raw_costs, n, 1, ptmpl.index)
    clock = _clock(ptmpl, opts)
    times = (clock[3], clock[4])
    oracle = float(oracle_totals(p2, costs, opts, 1)[0])
    event_time = times[0] is not None and not times[0].regular
    width = chunk_width(n, budget, lazy=True, event_time=event_time, per_column_oracle=False)
    parts, labels = [], []
    for q2, cols in lazy_chunks(position, width, p2, ptmpl, opts.max_leverage):
        parts.append(accumulate(p2, q2, costs, opts, times, write=False, oracle=oracle, bounds=bounds)[1])
        labels.append(cols)
        del q2  # freed before the next chunk is made
    if not parts:
        raise ValueError(expected("position", "at least one column chunk", "none", raw=True))
    columns = labels[0].append(labels[1:]) if len(labels) > 1 else labels[0]
    template = Template(ptmpl.index, columns, False, None)
    return None, Accumulated.concat(parts), p2, costs, template, _calendar(clock)


def _pbo_bounds(n: int, splits: int | None) -> np.ndarray:
    """The first row of each PBO block and ``n`` (empty without ``pbo_splits``); too few rows are refused."""
    if splits is None:
        return np.zeros(0, dtype=np.int64)
    if n < 2 * splits:
        raise ValueError(
            expected("pbo_splits", f"at most n / 2 = {n // 2} blocks (2 rows a block)", splits, hint="use fewer splits")
        )
    return block_bounds(n, splits)


def _check_pbo_trials(selection: Selection) -> None:
    """PBO compares configurations: at least two trial columns."""
    k = int(selection.trials.sum())
    if k < 2:
        raise ValueError(
            expected(
                "pbo_splits",
                "at least 2 trial columns to compare (benchmarks are not trials)",
                f"{k} trial column{'s' if k != 1 else ''}",
                raw=True,
            )
        )


def _pbo(summed: Accumulated, selection: Selection, n: int, splits: int) -> PBOResult:
    """The PBO of the trial columns from the blocks' moments the one pass kept."""
    _check_pbo_trials(selection)
    counts = np.diff(block_bounds(n, splits)).astype(np.float64)
    return pbo_from_blocks(counts, summed.blocks[:, :, selection.trials])


def _calendar(clock: tuple[float, str, str, Clock | None, pd.DatetimeIndex | None]) -> tuple[float, str, str, int]:
    """Periods per year, the rule's name, the note and the calendar's days per year (short samples count on it)."""
    return (*clock[:3], calendar_days_per_year(clock[3], clock[4]))


def _clock(template: Template, opts: Options) -> tuple[float, str, str, Clock | None, pd.DatetimeIndex | None]:
    """Periods per year, the rule's name and the note when unknown; the clock and the rows' time index."""
    times = time_index(template.index, "price") if template.index is not None else None
    ppy, clock, note = decide_clock(opts.periods_per_year, times)
    rule = clock.rule if clock is not None else ("explicit" if np.isfinite(opts.periods_per_year) else "unknown")
    return ppy, rule, note, clock, times


def _selection(benchmarks: Any, n_trials: int | None, columns: pd.Index) -> Selection:
    """Which columns are trials (not benchmarks); ``n_trials`` must be at least their number."""
    marked = _benchmark_positions(benchmarks, columns)
    trials = np.ones(len(columns), dtype=bool)
    trials[marked] = False
    k = int(trials.sum())
    if n_trials is not None and n_trials < k:
        raise ValueError(
            expected(
                "n_trials",
                f"at least the number of trial columns ({k})",
                n_trials,
                hint="benchmark columns are not trials: mark them with benchmarks=[...]",
            )
        )
    return Selection(trials, n_trials)


def _benchmark_positions(benchmarks: Any, columns: pd.Index) -> list[int]:
    """Positions of the benchmark columns: a label or a list of labels of the position columns."""
    if benchmarks is None:
        return []
    if isinstance(benchmarks, str) or _is_label(benchmarks, columns):
        benchmarks = [benchmarks]
    elif not isinstance(benchmarks, list | tuple | set | frozenset | pd.Index | np.ndarray):
        raise TypeError(expected("benchmarks", "a column label or a list of column labels", benchmarks))
    labels = list(columns)
    out = []
    for i, label in enumerate(benchmarks):
        if label not in labels:
            shown = ", ".join(repr(c) for c in labels[:10]) + (", ..." if len(labels) > 10 else "")
            raise ValueError(
                expected(f"benchmarks[{i}]", f"a column label (one of {shown})", label) + did_you_mean(label, labels)
            )
        out.append(labels.index(label))
    return out


def _is_label(value: Any, columns: pd.Index) -> bool:
    """Whether ``value`` is itself one column label (a tuple can be one, in a MultiIndex)."""
    try:
        return bool(value in columns)
    except (TypeError, ValueError):  # unhashable: a list of labels
        return False
