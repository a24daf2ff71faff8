"""``evaluation.html``: one self-contained page scoring a prediction sink, built from the offline report's pieces.

The figures are those of an offline run's ``report.html`` (:mod:`signalbench.reports.plots`: the reliability diagram
with its accuracy-by-confidence table, the predicted-probability histograms, the confusion matrix), as base64 PNG
images in a Jinja2 template (``templates/evaluation.html.j2``), with the latency and throughput tables of the stream.
Nothing is loaded from outside the file. See ``docs/architecture.md``, "Streaming".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from signalbench.reports import plots

if TYPE_CHECKING:
    from signalbench.streaming.analytics import StreamEvaluation

__all__ = ["render_evaluation"]

_METRICS = (
    ("accuracy", "share of scored rows whose argmax class is the label"),
    ("balanced_accuracy", "mean recall over the classes present"),
    ("macro_f1", "unweighted mean of the per-class F1"),
    ("log_loss", "lower is better"),
    ("brier", "lower is better (0 perfect, 2 worst)"),
    ("direction_accuracy", "rows that moved: P(up) > P(down) agrees with the move"),
)
_COUNTS = (
    ("sink_rows", "rows in the listed files"),
    ("unique_rows", "distinct data rows (pos within its day, plus the rows of earlier days)"),
    ("duplicates", "rows whose position was already seen (should be 0)"),
    ("gaps", "positions missing between the first and the last (should be 0)"),
    ("no_prediction", "no prediction (warm-up: the model's window or the features not ready)"),
    ("no_label", "no realised label (the last horizon rows of each day)"),
    ("before_first_scored", "rows before the first scored row (in-sample rows, a threshold fit on the head)"),
    ("in_sample", "of those: rows the model was fitted, validated or tuned on (the run's own data; never scored)"),
    ("pred_mismatch", "published pred differs from the argmax of the published probabilities (should be 0)"),
    ("scored", "rows scored"),
)


def _fmt(v: Any, spec: str = ".4f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return format(v, spec) if isinstance(v, int | float) else str(v)


def _name(result: StreamEvaluation) -> str:
    info = result.info
    model = str(info.get("model") or "model").rstrip("/").rsplit("/", 1)[-1]
    return f"{model} ({info.get('mode', '?')}, {info.get('backend', '?')})"


def _figures(result: StreamEvaluation) -> list[dict[str, Any]]:
    if result.scored.empty:
        return []
    name = _name(result)
    pred = result.scored.rename(columns=lambda c: c.replace("stream:", f"{name}:", 1))
    table = plots.calibration_table(pred, name).to_html(float_format="%.3f", classes="metrics")
    figs = [
        (
            "Reliability",
            "Hit rate against mean confidence (top-class probability); the table lists every bucket.",
            plots.reliability_figure(pred, [name]),
            [(name, table)],
        ),
        ("Predicted probabilities", "", plots.probability_figure(pred, [name]), []),
        (
            "Confusion matrix",
            "Rows: true class; columns: predicted class (argmax).",
            plots.confusion_figure({name: result.metrics["confusion"]}),
            [],
        ),
    ]
    return [{"title": t, "text": txt, "uri": plots.to_data_uri(f), "tables": tb} for t, txt, f, tb in figs]


def _facts(result: StreamEvaluation) -> list[tuple[str, str]]:
    info, lab, tp = result.info, result.labels, result.throughput
    label = f"{lab['kind']}, horizon {lab['horizon']}, threshold {lab['threshold']:.6g} ({lab['threshold_source']})"
    return [
        ("sink", str(result.sink_dir)),
        ("model", str(info.get("model"))),
        ("run folder", str(info.get("run_dir") or "none (the labels were given)")),
        ("mode / backend", f"{info.get('mode')} / {info.get('backend')}"),
        ("data", str(info.get("data"))),
        ("files", f"{len(info.get('files', []))} listed Parquet files"),
        ("labels", label),
        ("data rows", f"{result.counts['first_row']} .. {result.counts['last_row']}"),
        ("throughput", _throughput_text(tp)),
    ] + ([("scored rows", f"from row {lab['first_unseen_row']}: {lab['in_sample']}")] if "in_sample" in lab else [])


def _throughput_text(tp: dict[str, Any]) -> str:
    text = f"{_fmt(tp['events_per_s'], ',.0f')} events/s ({tp['events']} events in {_fmt(tp['seconds'], '.3f')} s, "
    text += "first received to last published)"
    if "pipeline_events_per_s" in tp:
        text += f"; {_fmt(tp['pipeline_events_per_s'], ',.0f')} events/s from the first produced"
    return text


def _findings(result: StreamEvaluation) -> list[str]:
    c = result.counts
    out = []
    if c["duplicates"]:
        out.append(
            f"{c['duplicates']} duplicated positions in the sink (first: {c['duplicate_rows'][:5]}); "
            "each is scored once (its first row)"
        )
    if c["gaps"]:
        out.append(f"{c['gaps']} positions missing between the first and the last (ranges: {c['gap_ranges'][:5]})")
    if c["pred_mismatch"]:
        out.append(f"{c['pred_mismatch']} rows whose published pred is not the argmax of their probabilities")
    return out


def render_evaluation(result: StreamEvaluation) -> str:
    """The HTML of ``evaluation.html`` for ``result`` (what :func:`~signalbench.streaming.analytics.evaluate` writes).

    Parameters
    ----------
    result : StreamEvaluation
        An evaluation.

    Returns
    -------
    str
        A self-contained HTML page.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("signalbench.streaming", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    latency = [
        {"name": k, **{q: _fmt(v.get(q), ".1f") for q in ("p50", "p90", "p99", "max", "mean")}, "n": v.get("n")}
        for k, v in result.latency.items()
    ]
    return env.get_template("evaluation.html.j2").render(
        title=_name(result),
        facts=_facts(result),
        findings=_findings(result),
        metrics=[(k, _fmt(result.metrics.get(k)), why) for k, why in _METRICS],
        counts=[(k, result.counts[k], why) for k, why in _COUNTS if k in result.counts],
        latency=latency,
        figures=_figures(result),
    )
