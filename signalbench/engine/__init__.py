"""The backtest engine: Numba kernels, statistics, annualization, perfect-foresight oracles and selection statistics.

``backtest`` is the one entry point; see its docstring and ``docs/architecture.md`` for the exact conventions.
``book_backtest`` executes orders on an order book and prices them with ``backtest`` (:mod:`.book`).
"""

from signalbench._validation import EmptyResultWarning
from signalbench.engine.backtest import BacktestResult, backtest
from signalbench.engine.book import book_backtest, book_cost
from signalbench.engine.book_curve import CapacityCurve, book_capacity
from signalbench.engine.oracle import naive_oracle_positions, oracle_positions
from signalbench.engine.periods import AnnualizationWarning, ShortSampleWarning, infer_clock
from signalbench.engine.selection import DeflatedSharpe, PBOResult, deflated_sharpe, deflated_sharpe_row, pbo
from signalbench.engine.stats import (
    STAT_ROWS,
    annual_return,
    annual_volatility,
    calmar_ratio,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)

__all__ = [
    "STAT_ROWS",
    "AnnualizationWarning",
    "BacktestResult",
    "CapacityCurve",
    "DeflatedSharpe",
    "EmptyResultWarning",
    "PBOResult",
    "ShortSampleWarning",
    "annual_return",
    "annual_volatility",
    "backtest",
    "book_backtest",
    "book_capacity",
    "book_cost",
    "calmar_ratio",
    "deflated_sharpe",
    "deflated_sharpe_row",
    "infer_clock",
    "max_drawdown",
    "naive_oracle_positions",
    "oracle_positions",
    "pbo",
    "sharpe_ratio",
    "sortino_ratio",
]
