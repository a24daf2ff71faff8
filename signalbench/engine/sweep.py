"""Columns in chunks: the one pass of :mod:`signalbench.engine.onepass` over a sweep larger than memory.

``backtest(..., keep="stats", memory="1GB")`` allocates no (n, m) output: the columns go through
:func:`signalbench.engine.onepass.one_pass_nb` in chunks whose width follows the memory budget, and only the
per-column accumulators of :class:`signalbench.engine.summary.Accumulated` are kept (a few dozen numbers a column:
the deflated Sharpe needs the clock returns' moments, nothing more). The full path is the same code with one chunk
that writes the series, so both give identical statistics.

Positions may come lazily (:data:`LAZY_HELP`): a generator or other iterator of (n, k) column chunks, or a
callable ``make(width)`` returning such an iterable with chunks of at most ``width`` columns, the width the
budget allows (e.g. :func:`signalbench.strategies.grid_chunks`). Each chunk is checked like ``position`` and
priced as it comes; the (n, m) position matrix never exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import expected
from signalbench.engine._inputs import Costs, Options, Template, align, as_2d, check_positions
from signalbench.engine.kernels import central_moments_nb, column_stats_nb
from signalbench.engine.onepass import ACC, ACC_ROWS, PBO_BLOCK, one_pass_nb
from signalbench.engine.periods import Clock, resample_to_clock
from signalbench.engine.summary import Accumulated, Simulation, oracle_totals

#: What a lazy ``position`` may be, for messages.
LAZY_HELP = "an iterator of (n, k) column chunks, or a callable make(width) returning an iterable of such chunks"

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40})


def memory_bytes(memory: Any) -> int:
    """A memory budget in bytes: a positive int, or a string such as ``"1GB"``, ``"512 MB"`` or ``"2GiB"``."""
    if isinstance(memory, int | np.integer) and not isinstance(memory, bool) and memory > 0:
        return int(memory)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*", memory, re.I) if isinstance(memory, str) else None
    if match is None or float(match[1]) <= 0:
        raise ValueError(expected("memory", "a byte count > 0 or a size such as '1GB', '512MB' or '2GiB'", memory))
    return int(float(match[1]) * _UNITS[(match[2] or "").upper()])


def is_lazy(position: Any) -> bool:
    """Whether ``position`` is a lazy source of column chunks rather than an array."""
    return isinstance(position, Iterator) or (callable(position) and not hasattr(position, "__array__"))


def accumulate(
    price: np.ndarray,
    position: np.ndarray,
    costs: Costs,
    opts: Options,
    clock: tuple[Clock | None, pd.DatetimeIndex | None],
    *,
    write: bool,
    oracle: float | np.ndarray | None = None,
    bounds: np.ndarray | None = None,
) -> tuple[Simulation | None, Accumulated]:
    """One pass over checked columns: the series when ``write`` and the :class:`Accumulated` statistics.

    ``oracle`` is the oracle's total when already known (every column shares price and costs), or its (m,) totals
    (a cost model with an oracle of its own); ``bounds`` the first rows of the PBO blocks and ``n`` (empty: no PBO).
    """
    n, m = price.shape[0], max(price.shape[1], position.shape[1])
    bounds = np.zeros(0, dtype=np.int64) if bounds is None else bounds
    event_time = clock[0] is not None and not clock[0].regular
    rows = n if write or event_time else 0
    outs = tuple(np.empty((rows, m), order="F") for _ in range(6))
    acc = np.empty((ACC_ROWS, m))
    blocks = np.empty((len(PBO_BLOCK), max(len(bounds) - 1, 0), m))
    compound = opts.mode == "compound"
    one_pass_nb(
        price, position, *_cost_arrays(costs), opts.delay, opts.close_at_end, compound, outs, acc, bounds, blocks
    )
    if event_time:
        on_clock = resample_to_clock(outs[0], clock[1], opts.mode)
        on = np.vstack([column_stats_nb(on_clock), central_moments_nb(on_clock)])
    else:
        on = np.vstack([acc[ACC["column"]], acc[ACC["moments"]]])
    totals = oracle_totals(price, costs, opts, m) if oracle is None else np.full(m, oracle)
    return (Simulation(*outs) if write else None), Accumulated(acc, on, totals, blocks)


def _cost_arrays(costs: Costs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return costs.fee, costs.half_spread, costs.slippage


def chunk_width(n: int, budget: int, *, lazy: bool, event_time: bool, per_column_oracle: bool) -> int:
    """Columns per chunk so that what each chunk allocates per column fits ``budget`` (at least one column).

    A column costs its accumulators and, 8 bytes a row each: for a lazy chunk five arrays (a 1,000,000 x 1,000
    grid of ``grid_chunks`` measured a peak of about four chunks' positions: the rule's outputs, their
    concatenation, the frame and the producer's own temporaries); for event time the six series the clock is
    resampled from and the resampling's temporaries (nine); for an oracle per column its scratch column.
    """
    per_row = 5 * lazy + 9 * event_time + per_column_oracle
    return max(1, budget // (8 * (max(n, 1) * per_row + 2 * ACC_ROWS)))


def eager_chunks(
    price: np.ndarray, position: np.ndarray, costs: Costs, width: int
) -> Iterator[tuple[np.ndarray, np.ndarray, Costs]]:
    """Column slices (views) of checked prices, positions and costs, ``width`` columns at a time."""
    m = max(price.shape[1], position.shape[1])
    for j0 in range(0, m, width):
        cut = slice(j0, min(m, j0 + width))
        yield _cols(price, cut), _cols(position, cut), Costs(*(_cols(a, cut) for a in _cost_arrays(costs)))


def _cols(a: np.ndarray, cut: slice) -> np.ndarray:
    """The columns ``cut`` of a flexibly shaped array (one shared column stays as it is)."""
    return a if a.shape[1] == 1 else a[:, cut]


def lazy_chunks(
    position: Any, width: int, price: np.ndarray, ptmpl: Template, max_leverage: float
) -> Iterator[tuple[np.ndarray, pd.Index]]:
    """The checked (n, k) chunks of a lazy ``position`` and their column labels, numbered on across chunks."""
    source = position(width) if callable(position) and not isinstance(position, Iterator) else position
    if not isinstance(source, Iterable):
        raise TypeError(expected("position", LAZY_HELP, source))
    done = 0
    for i, chunk in enumerate(source):
        q2, qtmpl = as_2d(chunk, f"position chunk {i}")
        if price.shape[1] != 1:
            raise ValueError(expected("price", "one column with lazily generated positions", price.shape[1]))
        if q2.shape[0] != price.shape[0]:
            raise ValueError(expected(f"position chunk {i}", f"{price.shape[0]} rows to match price", q2.shape[0]))
        template = align(ptmpl, qtmpl, price.shape, q2.shape)
        labels = qtmpl.columns if qtmpl.columns is not None else pd.RangeIndex(done, done + q2.shape[1])
        check_positions(q2, Template(template.index, labels, False), max_leverage, of_many=True)
        done += q2.shape[1]
        yield q2, labels
        del chunk, q2  # freed before the source makes the next chunk
