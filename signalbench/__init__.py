"""signalbench: honest, fast, cost-aware backtests of sequence-model trading signals.

The public API is deliberately small; everything else lives in the stage sub-packages
(:mod:`signalbench.data`, :mod:`signalbench.signals`, :mod:`signalbench.strategies`,
:mod:`signalbench.engine`, :mod:`signalbench.reports`). Names are imported lazily so that
``import signalbench.data`` does not pay for the engine's imports.
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "backtest": "signalbench.engine",
    "BacktestResult": "signalbench.engine",
    "book_backtest": "signalbench.engine",
    "book_capacity": "signalbench.engine",
    "AnnualizationWarning": "signalbench.engine",
    "oracle_positions": "signalbench.engine",
    "naive_oracle_positions": "signalbench.engine",
    "load_lobster": "signalbench.data",
    "load_bars": "signalbench.data",
    "synthetic_ticks": "signalbench.data",
    "create_model": "signalbench.signals.registry:create",
    "load_model": "signalbench.signals.registry:load",
    "compare": "signalbench.experiment",
    "Experiment": "signalbench.experiment",
    "load_experiment": "signalbench.experiment",
    "RunFolderError": "signalbench._runfiles",
    "deflated_sharpe": "signalbench.engine.selection",
    "pbo": "signalbench.engine.selection",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
