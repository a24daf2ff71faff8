"""Reports: metrics, the self-contained ``report.html`` of a run folder, tear sheets, plots; ``docs/architecture.md``.

:mod:`~signalbench.reports.metrics` (classification metrics), :func:`build_report` (``report.html``, with the tear
sheets), :mod:`~signalbench.reports.tearsheets` (quantstats tear sheets on the engine's clock: :func:`tearsheet` for a
backtest, :func:`build_tearsheets` for a run folder), :mod:`~signalbench.reports.clock` (returns on the engine's
clock), :mod:`~signalbench.reports.plots` (matplotlib figures) and :mod:`~signalbench.reports.downsample` (min/max
downsampling of long series). Names are imported on first use.
"""

from signalbench._lazy import lazy_exports

_MODULES = {
    "signalbench.reports.html": ("build_report",),
    "signalbench.reports.tearsheets": ("build_tearsheets", "tearsheet"),
    "signalbench.reports.clock": ("ClockReturns", "clock_returns"),
    "signalbench._runfiles": ("RunFolderError",),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
