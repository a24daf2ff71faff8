"""Experiments: one TOML file -> data, features, labels, purged folds, every model, strategies, one backtest.

An orchestrator above the stages (``docs/architecture.md``): it may import every stage, and no stage imports it.

- :class:`Experiment`, :func:`load_experiment`: the validated config (``examples/*.toml`` document every key).
- :func:`compare`: run one experiment and write its run folder (``signalbench run``).
- :func:`walk_forward`: the walk-forward evaluation of one model and one rule on arrays you already have (refit per
  fold on the past with a validation tail, predict the next block, stitch, backtest once).
- :func:`validate`: load the data and check that the split leaves every part enough rows (``signalbench validate``).
- :mod:`signalbench.experiment.audit_run`: the leakage audit of a run and of a finished run folder
  (``signalbench audit``; the checks: :mod:`signalbench.audit`).
- The run folder's owner: :mod:`signalbench._runfolder`; a damaged one, or one that cannot be written, is a
  :class:`RunFolderError` naming the file and the key (read through :mod:`signalbench._runfiles`).
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

_EXPORTS = {
    "Experiment": "signalbench.experiment.config",
    "ConfigError": "signalbench.experiment.config",
    "load_experiment": "signalbench.experiment.config",
    "parse_experiment": "signalbench.experiment.config",
    "compare": "signalbench.experiment.runner",
    "validate": "signalbench.experiment.runner",
    "ExperimentResult": "signalbench.experiment.runner",
    "ExperimentWarning": "signalbench.experiment.runner",
    "RunFolderError": "signalbench._runfiles",
    "walk_forward": "signalbench.experiment.walkforward",
    "WalkForwardResult": "signalbench.experiment.walkforward",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
