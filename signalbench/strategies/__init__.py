"""Strategies: model outputs -> target positions, parameter grids and honest model selection.

Position rules (:mod:`signalbench.strategies.positions`) turn (n, k) class probabilities or predicted
returns, aligned row by row with prices, into target positions in [-1, 1] for
:func:`signalbench.engine.backtest`; :func:`grid` sweeps a rule over parameter values;
:mod:`signalbench.engine.selection` corrects the best of many tried configurations for
selection bias (deflated Sharpe ratio, probability of backtest overfitting). Names are imported
lazily so that importing the package does not compile the Numba kernels.
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

# public name -> module that defines it
_EXPORTS = {
    "sign": "signalbench.strategies.positions",
    "threshold": "signalbench.strategies.positions",
    "hysteresis": "signalbench.strategies.positions",
    "size_by_confidence": "signalbench.strategies.positions",
    "spread_filter": "signalbench.strategies.positions",
    "ensemble": "signalbench.strategies.positions",
    "rules": "signalbench.strategies.positions",
    "grid": "signalbench.strategies.grids",
    "deflated_sharpe": "signalbench.engine.selection",
    "deflated_sharpe_row": "signalbench.engine.selection",
    "DeflatedSharpe": "signalbench.engine.selection",
    "pbo": "signalbench.engine.selection",
    "PBOResult": "signalbench.engine.selection",
    "walk_forward": "signalbench.strategies.walkforward",
    "WalkForwardResult": "signalbench.strategies.walkforward",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
