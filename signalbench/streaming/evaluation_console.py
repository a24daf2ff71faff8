"""The terminal view of a stream evaluation: rich tables for ``signalbench stream evaluate``.

See ``docs/architecture.md``, "Streaming".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table

if TYPE_CHECKING:
    from signalbench.streaming.analytics import StreamEvaluation

__all__ = ["evaluation_view"]

_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "direction_accuracy")
_COUNTS = ("sink_rows", "duplicates", "gaps", "no_prediction", "no_label", "before_first_scored", "in_sample", "scored")


def _num(v: Any, spec: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return format(v, spec)


def _summary(ev: StreamEvaluation) -> Table:
    info, lab, tp = ev.info, ev.labels, ev.throughput
    table = Table(
        title=f"stream evaluation: {info.get('model')} ({info.get('mode')}, {info.get('backend')})",
        show_header=False,
        title_justify="left",
    )
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value")
    table.add_row("labels", f"{lab['kind']}, horizon {lab['horizon']}, threshold {lab['threshold']:.6g}")
    table.add_row("threshold from", str(lab["threshold_source"]))
    if "in_sample" in lab:
        table.add_row("in-sample rows", str(lab["in_sample"]))
    for k in _METRICS:
        table.add_row(k, _num(ev.metrics.get(k), ".4f"))
    for k in (k for k in _COUNTS if k in ev.counts):
        style = "red" if k in ("duplicates", "gaps") and ev.counts[k] else ""
        table.add_row(f"rows: {k}", f"[{style}]{ev.counts[k]}[/{style}]" if style else str(ev.counts[k]))
    table.add_row(
        "throughput", f"{_num(tp['events_per_s'], ',.0f')} events/s ({tp['events']} events, received to published)"
    )
    if "pipeline_events_per_s" in tp:
        table.add_row("pipeline", f"{_num(tp['pipeline_events_per_s'], ',.0f')} events/s (produced to published)")
    return table


def _latency(ev: StreamEvaluation) -> Table:
    table = Table(title="latency (microseconds per event)", title_justify="left")
    for col in ("latency", "p50", "p90", "p99", "max", "mean"):
        table.add_column(col, justify="left" if col == "latency" else "right")
    for name, s in ev.latency.items():
        table.add_row(name, *(_num(s[q], ".1f") for q in ("p50", "p90", "p99", "max", "mean")))
    return table


def _calibration(ev: StreamEvaluation) -> Table:
    table = Table(title="calibration (top-class probability)", title_justify="left")
    for col in ("confidence", "count", "mean confidence", "hit rate"):
        table.add_column(col, justify="left" if col == "confidence" else "right")
    for bucket, row in ev.calibration.iterrows():
        table.add_row(str(bucket), str(int(row["count"])), f"{row['mean_confidence']:.3f}", f"{row['hit_rate']:.3f}")
    return table


def evaluation_view(ev: StreamEvaluation) -> Group:
    """The summary, latency and calibration tables of ``ev``, for ``rich.console.Console.print``.

    Parameters
    ----------
    ev : StreamEvaluation
        From :func:`signalbench.streaming.analytics.evaluate`.

    Returns
    -------
    rich.console.Group
    """
    return Group(_summary(ev), _latency(ev), _calibration(ev))
