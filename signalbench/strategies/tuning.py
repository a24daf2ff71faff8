"""Tuning a rule's parameters on validation rows, with "stay flat" always a possible answer.

:func:`tune` runs a position rule over a grid of parameter values on the **validation rows only**, prices every
candidate in one :func:`signalbench.engine.backtest` call at the costs given, and keeps the candidate with the
highest total additive net return after costs, or "flat" (no trading, net return 0) when no candidate earns more
than nothing. A model with no edge after costs therefore ends up not trading instead of paying the spread on
every bar. The choice is then applied, unchanged, to the test rows with :meth:`TuneResult.apply`; the test rows
are never read while tuning (``docs/architecture.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import EmptyResultWarning, boolean, expected, integer
from signalbench.engine.backtest import backtest
from signalbench.engine.periods import ShortSampleWarning
from signalbench.strategies import grids
from signalbench.strategies._inputs import as_values, check_cells, check_same_index, wrap

__all__ = ["FLAT", "TuneResult", "pool", "tune"]

#: The label of the "do not trade" candidate in :attr:`TuneResult.table`.
FLAT = "flat"

#: The columns of :attr:`TuneResult.table` after the parameter columns.
TABLE_COLUMNS = ("net_return", "gross_return", "cost", "turnover", "n_trades", "chosen")

#: Rows x candidates above which the grid is priced chunk by chunk (``backtest(keep="stats")``, no position matrix).
LARGE_GRID_CELLS = 2**25


@dataclass(frozen=True)
class TuneResult:
    """The choice made by :func:`tune`, the evidence for it, and a way to apply it to other rows.

    Attributes
    ----------
    params : dict or None
        The chosen parameter values (``{}`` for a rule run with its defaults), or None for "flat".
    table : pandas.DataFrame
        One row per candidate, ``"flat"`` first, labelled ``"name=value, ..."``: the parameter values, then
        ``net_return`` (total additive net return after costs over the validation rows, the objective),
        ``gross_return``, ``cost``, ``turnover``, ``n_trades`` and ``chosen`` (True on exactly one row).
    n_trials : int
        The number of candidates tried, "flat" not counted: the number of trials to state when the chosen
        column's Sharpe is deflated for this selection.
    rule : callable
        The rule that was tuned.
    pass_price : bool
        Whether the rule takes the price as its second argument.
    costs : dict
        The costs, ``delay`` and ``close_at_end`` the candidates were priced with.
    candidates : dict
        Every candidate's parameters by its label in ``table`` (what :func:`pool` chooses among).
    """

    params: dict[str, Any] | None
    table: pd.DataFrame
    n_trials: int
    rule: Callable[..., Any] = field(repr=False)
    pass_price: bool = field(repr=False)
    costs: dict[str, Any] = field(repr=False)
    candidates: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    @property
    def flat(self) -> bool:
        """True when the choice is not to trade."""
        return self.params is None

    def apply(self, signal: Any, price: Any = None) -> Any:
        """Positions of the chosen candidate on other rows (e.g. the test rows): zeros when it is "flat".

        Parameters
        ----------
        signal : array-like or pandas object
            The rule's first input on those rows (class probabilities or predicted returns).
        price : array-like or pandas.Series, optional
            Those rows' prices; required when the rule takes them (``pass_price=True``).

        Returns
        -------
        numpy.ndarray or pandas object
            The rule's positions with NaN replaced by 0 (flat), or zeros of ``signal``'s length (a pandas
            Series on its index for pandas input) when the choice is "flat".
        """
        if self.pass_price and price is None:
            raise TypeError(expected("price", "the prices of signal's rows (the tuned rule takes them)", price))
        if self.flat:
            values, index, _ = as_values(signal, "signal", ndim=(1, 2))
            return wrap(np.zeros(values.shape[0]), index)
        inputs = (signal, price) if self.pass_price else (signal,)
        positions = self.rule(*inputs, **self.params)
        if isinstance(positions, pd.Series | pd.DataFrame):
            return positions.fillna(0.0)
        positions = np.asarray(positions, dtype=np.float64)
        return np.where(np.isnan(positions), 0.0, positions)


def tune(
    rule: Callable[..., Any],
    signal: Any,
    price: Any,
    grid: Mapping[str, Any] | None = None,
    *,
    fee_bps: float = 0.0,
    half_spread_bps: Any = 0.0,
    slippage_bps: float = 0.0,
    delay: int = 0,
    close_at_end: bool = True,
    validation: slice | None = None,
    pass_price: bool = False,
) -> TuneResult:
    """Choose a rule's parameters by net return after costs on validation rows; "flat" when nothing earns.

    Tuning reads the validation rows only: ``signal``, ``price`` (and a per-row ``half_spread_bps``) are
    either the validation rows themselves or, with ``validation``, longer arrays of which only the rows of
    that slice are read. Never pass test rows to be tuned on: apply the result to them with
    :meth:`TuneResult.apply`.

    Parameters
    ----------
    rule : callable
        A position rule, called as ``rule(signal, **params)`` (or ``rule(signal, price, **params)`` with
        ``pass_price``), e.g. :func:`~signalbench.strategies.threshold`, returning one (n,) position column.
    signal : array-like or pandas object
        The rule's first input: (n, k) class probabilities or (n,) predicted returns.
    price : array-like or pandas.Series
        (n,) prices > 0 of the same rows.
    grid : dict, optional
        Parameter name -> list, tuple or range of values to try (every combination is a candidate, in
        :func:`~signalbench.strategies.grid` order). None or ``{}``: one candidate, the rule's defaults.
    fee_bps, half_spread_bps, slippage_bps : float or array
        Costs per unit traded in basis points, as in :func:`signalbench.engine.backtest`; ``half_spread_bps``
        may be per row (an (n,) array, e.g. the quoted half spread), cut with ``validation`` like ``signal``.
    delay : int, default 0
        Bars between a decision and its execution, an integer >= 0.
    close_at_end : bool, default True
        Close every candidate's position on the last validation bar, so each pays for every trade it opened.
    validation : slice, optional
        The validation rows (positions, step 1) when ``signal`` and ``price`` hold more rows; only these rows
        are read. Default: every row given is a validation row.
    pass_price : bool, default False
        Pass the price to the rule as its second argument (for :func:`~signalbench.strategies.rules`).

    Returns
    -------
    TuneResult
        ``params`` (None for "flat"), the ``table`` of every candidate, ``n_trials`` and ``apply``.

    Raises
    ------
    TypeError
        A ``rule`` that is not callable, a grid that is not a dict of lists, non-numeric inputs, a
        non-integer ``delay``, a non-bool flag or a ``validation`` that is not a slice.
    ValueError
        Misaligned inputs, prices <= 0, an empty or stepped ``validation``, a rule that returns several
        position columns, or bad costs (reported by the engine).

    Notes
    -----
    The objective of a candidate is ``sum(r[t])`` over the validation bars, the engine's net return
    ``r = g - c`` (gross return minus costs), i.e. the total additive net return. "Flat" earns exactly 0. The
    candidate with the highest objective is chosen if it is above 0; ties between candidates go to the one with
    less turnover, then the first in grid order; a tie with 0 and an all-losing grid choose "flat". The
    annualized figures of the backtest are not used (``periods_per_year=1`` is passed to it). A grid of more than
    :data:`LARGE_GRID_CELLS` rows x candidates is made with :func:`~signalbench.strategies.grid_chunks` and priced
    with ``backtest(..., keep="stats")``, chunk by chunk (``gross_return`` is then ``net_return + cost``).

    Examples
    --------
    >>> import numpy as np
    >>> from signalbench.strategies import threshold
    >>> price = np.array([100.0, 101.0, 102.0, 101.0, 100.0])
    >>> p_up = np.array([0.9, 0.9, 0.1, 0.1, 0.5])  # right about every move
    >>> best = tune(threshold, np.column_stack([1 - p_up, p_up]), price, {"enter": [0.6, 0.95]}, fee_bps=1.0)
    >>> best.params
    {'enter': 0.6}
    >>> tune(threshold, np.column_stack([p_up, 1 - p_up]), price, {"enter": [0.6]}, fee_bps=1.0).flat
    True
    """
    if not callable(rule):
        raise TypeError(expected("rule", "a callable position rule", rule))
    pass_price = boolean(pass_price, "pass_price")
    costs = {
        "fee_bps": fee_bps,
        "half_spread_bps": half_spread_bps,
        "slippage_bps": slippage_bps,
        "delay": integer(delay, "delay", minimum=0),
        "close_at_end": boolean(close_at_end, "close_at_end"),
    }
    rows = _validation_rows(validation, signal)
    signal, price, costs["half_spread_bps"] = (_cut(x, rows) for x in (signal, price, half_spread_bps))
    px, candidates, positions = _candidates(rule, signal, price, grid, pass_price)
    table = _price_candidates(px, positions, candidates, costs)
    chosen = _choose(table)
    params = None if chosen == FLAT else candidates[chosen]
    return TuneResult(params, table, len(candidates), rule, pass_price, costs, candidates)


def pool(results: list[TuneResult]) -> TuneResult:
    """One choice from several tunings of the same grid on separate stretches of validation rows (e.g. days).

    Each candidate's figures (``net_return``, ``gross_return``, ``cost``, ``turnover``, ``n_trades``) are summed
    over ``results``, each stretch priced on its own (no position is carried from one to the next), and the choice is
    made on the sums by :func:`tune`'s rule ("flat" unless a candidate earns more than 0; ties to less turnover).

    Raises
    ------
    ValueError
        ``results`` empty, or tunings of different candidates.
    """
    if not results:
        raise ValueError(expected("results", "at least one TuneResult to pool", "none", raw=True))
    first = results[0]
    table = first.table.copy()
    numbers = list(TABLE_COLUMNS[:-1])
    for other in results[1:]:
        if list(other.table.index) != list(table.index):
            raise ValueError(expected("results", "tunings of the same candidates", list(other.table.index)))
        table[numbers] = table[numbers].to_numpy() + other.table[numbers].to_numpy()
    table["n_trades"] = table["n_trades"].astype(np.int64)
    table["chosen"] = False
    chosen = _choose(table)
    params = None if chosen == FLAT else dict(first.candidates[chosen])
    return TuneResult(params, table, first.n_trials, first.rule, first.pass_price, first.costs, first.candidates)


def _validation_rows(validation: Any, signal: Any) -> slice | None:
    """``validation`` as a non-empty ``slice(start, stop)`` of the rows given (None: every row)."""
    if validation is None:
        return None
    if not isinstance(validation, slice):
        raise TypeError(expected("validation", "a slice of row positions, e.g. slice(6000, 8000)", validation))
    start, stop, step = validation.indices(len(signal))
    if step != 1 or stop <= start:
        raise ValueError(expected("validation", f"a non-empty slice with step 1 within {len(signal)} rows", validation))
    return slice(start, stop)


def _cut(x: Any, rows: slice | None) -> Any:
    """The validation rows of a per-row input (scalars pass unchanged)."""
    if rows is None or np.ndim(x) == 0:
        return x
    return x.iloc[rows] if isinstance(x, pd.Series | pd.DataFrame) else x[rows]


def _candidates(
    rule: Callable[..., Any], signal: Any, price: Any, grid: Any, pass_price: bool
) -> tuple[np.ndarray, dict[str, dict[str, Any]], Any]:
    """Checked prices, the candidates by label, and their (n, c) positions (NaN -> 0), lazily for a large grid."""
    sig, sig_index, _ = as_values(signal, "signal", ndim=(1, 2))
    px, px_index, _ = as_values(price, "price", sig.shape[0], allow_nan=False)
    check_same_index(sig_index, px_index, "price", "signal")
    check_cells(px, px <= 0, "price", "values > 0", px_index)
    inputs = (signal, price) if pass_price else (signal,)
    if grid is None or (isinstance(grid, Mapping) and not grid):
        candidates = {"defaults": {}}
        values, _, _ = as_values(rule(*inputs), "the rule's output", sig.shape[0], ndim=(1, 2))
        frame = values.reshape(sig.shape[0], -1)
    else:
        if not isinstance(grid, Mapping):
            raise TypeError(expected("grid", "a dict of parameter name -> list of values", grid))
        names = list(grid)
        if _n_combinations(grid) * sig.shape[0] > LARGE_GRID_CELLS:
            chunks = grids.grid_chunks(rule, *inputs, **grid)
            candidates = {_label(names, tuple(c.values())): c for c in chunks.combos}
            return px, candidates, _flat_chunks(chunks, len(names))
        out = grids.grid(rule, *inputs, **grid)
        candidates = {_label(names, key): dict(zip(names, key)) for key in out.columns}
        frame = out.to_numpy()
    if frame.shape[1] != len(candidates):
        raise ValueError(
            expected("rule", "one position column per candidate", f"{frame.shape[1] // len(candidates)}", raw=True)
        )
    return px, candidates, np.where(np.isnan(frame), 0.0, frame)


def _n_combinations(grid: Mapping[str, Any]) -> int:
    """The number of candidates of a grid (its lists' lengths multiplied; a bad list is reported by the grid)."""
    sizes = [len(v) if isinstance(v, list | tuple | range) else 1 for v in grid.values()]
    return int(np.prod(sizes))


def _flat_chunks(chunks: grids.GridChunks, n_names: int) -> Callable[[int], Any]:
    """The grid's chunks with NaN positions as 0 (flat); a rule that returns several columns is an error."""

    def make(width: int) -> Any:
        for chunk in chunks(width):
            if chunk.columns.nlevels != n_names:
                raise ValueError(expected("rule", "one position column per candidate", "several", raw=True))
            yield chunk.fillna(0.0)

    return make


def _label(names: list[str], values: tuple[Any, ...]) -> str:
    """A candidate's row label: ``"enter=0.6, exit=0.5"`` (strings quoted: ``"when_wide='hold'"``)."""
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in zip(names, values))


def _price_candidates(
    px: np.ndarray, positions: np.ndarray, candidates: dict[str, dict[str, Any]], costs: dict[str, Any]
) -> pd.DataFrame:
    """One backtest of every candidate; the table of objectives, "flat" first.

    Only sums of returns, costs and exposure are read, so the engine's warnings about annualized figures (short
    samples) and idle candidates (a grid point no probability reaches) say nothing about the objective: they are
    kept out of the caller's way.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortSampleWarning)
        warnings.simplefilter("ignore", EmptyResultWarning)
        if callable(positions):
            return _table_from_stats(backtest(px, positions, periods_per_year=1.0, keep="stats", **costs), candidates)
        result = backtest(px, positions, periods_per_year=1.0, **costs)
    exposure = np.asarray(result.exposure)
    traded = np.abs(np.diff(exposure, axis=0, prepend=0.0))
    names = list(next(iter(candidates.values())))  # every candidate sets the same parameters
    rows = [{**dict.fromkeys(names), **dict.fromkeys(TABLE_COLUMNS[:-1], 0.0)}]
    for j, params in enumerate(candidates.values()):
        rows.append(
            {
                **params,
                "net_return": float(np.asarray(result.returns)[:, j].sum()),
                "gross_return": float(np.asarray(result.gross_returns)[:, j].sum()),
                "cost": float(np.asarray(result.costs)[:, j].sum()),
                "turnover": float(traded[:, j].sum()),
                "n_trades": float((traded[:, j] > 0).sum()),
            }
        )
    table = pd.DataFrame(rows, index=pd.Index([FLAT, *candidates], name="candidate"))
    table["n_trades"] = table["n_trades"].astype(np.int64)
    table["chosen"] = False
    return table


def _table_from_stats(result: Any, candidates: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The table of :func:`_price_candidates` from a statistics-only backtest (a large grid, priced in chunks).

    The same figures from the engine's per-column sums; ``gross_return`` is ``net_return + cost``.
    """
    stats = result.stats
    net = stats.loc["total_return_additive"].to_numpy()
    cost = stats.loc["cost_paid"].to_numpy()
    names = list(next(iter(candidates.values())))
    table = pd.DataFrame(
        {
            **{k: [None, *(c[k] for c in candidates.values())] for k in names},
            "net_return": np.r_[0.0, net],
            "gross_return": np.r_[0.0, net + cost],
            "cost": np.r_[0.0, cost],
            "turnover": np.r_[0.0, stats.loc["turnover"].to_numpy()],
            "n_trades": np.r_[0, stats.loc["n_trades"].to_numpy()].astype(np.int64),
        },
        index=pd.Index([FLAT, *candidates], name="candidate"),
    )
    table["chosen"] = False
    return table


def _choose(table: pd.DataFrame) -> str:
    """The best candidate's label, or ``"flat"`` unless one earns more than 0; marks it in ``table``."""
    tried = table.drop(index=FLAT)
    best = FLAT
    if len(tried) and tried["net_return"].max() > 0:
        top = tried[tried["net_return"] == tried["net_return"].max()]
        best = top.index[int(np.argmin(top["turnover"].to_numpy()))]
    table.loc[best, "chosen"] = True
    return best
