"""Strategies: model outputs -> target positions, parameter grids and tuning on validation rows.

Position rules turn (n, k) class probabilities or predicted returns, aligned row by row with prices, into
target positions in [-1, 1] for :func:`signalbench.engine.backtest`: bar-by-bar rules
(:mod:`~signalbench.strategies.positions`), rules that hold a position across bars
(:mod:`~signalbench.strategies.holding`), entry/exit rules on predicted returns
(:mod:`~signalbench.strategies.trade_rules`) and :func:`ensemble` (several models -> one set of
probabilities). :func:`grid` sweeps a rule over parameter values; :func:`tune` chooses parameters by net
return after costs on validation rows, "flat" included. The selection statistics (deflated Sharpe, PBO) live in
:mod:`signalbench.engine.selection`. Names are imported lazily, so ``import signalbench.strategies`` compiles no
Numba kernel, and the bar-by-bar rules import neither Numba nor the engine (``docs/architecture.md``).
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

# public name -> module that defines it
_EXPORTS = {
    "sign": "signalbench.strategies.positions",
    "threshold": "signalbench.strategies.positions",
    "size_by_confidence": "signalbench.strategies.positions",
    "hysteresis": "signalbench.strategies.holding",
    "spread_filter": "signalbench.strategies.holding",
    "ensemble": "signalbench.strategies.ensembles",
    "rules": "signalbench.strategies.trade_rules",
    "grid": "signalbench.strategies.grids",
    "grid_chunks": "signalbench.strategies.grids",
    "tune": "signalbench.strategies.tuning",
    "TuneResult": "signalbench.strategies.tuning",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
