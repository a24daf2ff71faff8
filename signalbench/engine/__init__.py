"""The backtest engine: Numba kernels, statistics, annualization and perfect-foresight oracles.

``backtest`` is the one entry point; see its docstring and ARCHITECTURE.md for the exact conventions.
"""

from signalbench.engine.backtest import BacktestResult, backtest
from signalbench.engine.oracle import naive_oracle_positions, oracle_positions
from signalbench.engine.periods import AnnualizationWarning, infer_clock
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
    "annual_return",
    "annual_volatility",
    "backtest",
    "calmar_ratio",
    "infer_clock",
    "max_drawdown",
    "naive_oracle_positions",
    "oracle_positions",
    "sharpe_ratio",
    "sortino_ratio",
]
