"""Reports: metrics, the self-contained ``report.html`` of a run folder, its plots; ``docs/architecture.md``.

:mod:`~signalbench.reports.metrics` (classification metrics), :func:`signalbench.reports.html.build_report`
(``report.html``), :mod:`~signalbench.reports.plots` (matplotlib figures) and :mod:`~signalbench.reports.downsample`
(min/max downsampling of long series).
"""
