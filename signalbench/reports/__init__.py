"""Reports: classification metrics of signal models (:mod:`signalbench.reports.metrics`); ``docs/architecture.md``."""
