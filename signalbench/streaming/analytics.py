"""Score a prediction sink against the realised labels: accuracy, calibration, latency and throughput.

:func:`evaluate` reads the sink (:mod:`signalbench.streaming.sinkread`: only the files the manifest lists), loads the
replayed data (the manifest's source path, or ``data=``), computes the label the model was trained with
(:mod:`signalbench.streaming.realised`) and joins the two on the data row: ``pos`` (the position within its day)
plus the rows of the earlier days of the data (the day is the date of the sink's ``time``). It reports

- the classification metrics of :mod:`signalbench.reports.metrics` on the rows that have both a prediction and a
  label (the predicted class is the argmax of the probabilities, as offline; the published ``pred`` is checked
  against it);
- calibration buckets of the top-class probability (:func:`signalbench.reports.plots.calibration_table`);
- latency percentiles (p50, p90, p99, max; NumPy's linear interpolation) of ``feature_us``, ``model_us``, ``e2e_us``;
- throughput: events per second from the first ``received_ns`` to the last ``published_ns``;
- what was left out and why: rows without a prediction (warm-up), rows without a label (each day's last ``horizon``
  rows), duplicated and missing data rows (there should be none: the sink is idempotent by event id).

It writes ``evaluation.json`` and ``evaluation.html`` (:mod:`signalbench.streaming.evaluation_html`) into the sink
folder atomically. See ``docs/architecture.md``, "Streaming".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._atomic import write_text
from signalbench._runfolder import to_jsonable
from signalbench._validation import expected, integer
from signalbench.reports.metrics import classification_metrics
from signalbench.reports.plots import calibration_table
from signalbench.streaming.evaluation_html import render_evaluation
from signalbench.streaming.realised import first_unseen_row, label_spec, realised_labels
from signalbench.streaming.sinkread import SinkData, load_sink

__all__ = ["LABEL_CLASSES", "LATENCY_COLUMNS", "StreamEvaluation", "evaluate", "latency_summary", "write_evaluation"]

#: The label classes (0 down, 1 stationary, 2 up); the metrics are computed over these.
LABEL_CLASSES = (0, 1, 2)
#: The latency columns of the sink that are summarised.
LATENCY_COLUMNS = ("feature_us", "model_us", "e2e_us")
_PERCENTILES = (50, 90, 99)
_MODEL = "stream"  # the model's name in the prediction frame handed to the report plots


@dataclass
class StreamEvaluation:
    """The evaluation of one sink; :meth:`to_dict` is what ``evaluation.json`` holds.

    Attributes
    ----------
    sink_dir : pathlib.Path
    info : dict
        Model, mode, backend, data, files read.
    counts : dict
        ``sink_rows``, ``unique_rows``, ``duplicates``, ``gaps`` (data rows missing between the first and the last;
        ``duplicate_rows`` and ``gap_ranges`` name the first 20), ``first_row``, ``last_row``, ``no_prediction``,
        ``no_label``, ``before_first_scored``, ``in_sample`` (when the stream replays the run's own data: the rows
        the model was fitted, validated and tuned on, which are never scored), ``pred_mismatch``, ``scored``.
    labels : dict
        How the labels were made (kind, horizon, threshold and where it came from).
    metrics : dict
        :func:`signalbench.reports.metrics.classification_metrics` on the scored rows.
    calibration : pandas.DataFrame
        Per bucket: ``count``, ``mean_confidence``, ``hit_rate`` (empty buckets left out).
    latency : dict
        Per latency column, and ``consumer_us`` (``published_ns - received_ns``: read to publish, in the consumer):
        ``n``, ``p50``, ``p90``, ``p99``, ``max``, ``mean`` (microseconds).
    throughput : dict
        ``events``, ``seconds`` and ``events_per_s`` (first received to last published); with a ``producer_ns``
        column also ``pipeline_seconds`` and ``pipeline_events_per_s`` (first produced to last published).
    scored : pandas.DataFrame
        The scored rows: ``row`` (the data row), ``label`` and ``stream:p<class>`` (the report plots' layout).
    """

    sink_dir: Path
    info: dict[str, Any]
    counts: dict[str, Any]
    labels: dict[str, Any]
    metrics: dict[str, Any]
    calibration: pd.DataFrame
    latency: dict[str, dict[str, float]]
    throughput: dict[str, float]
    scored: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (non-finite numbers as None)."""
        buckets = [{"bucket": str(k), **row.to_dict()} for k, row in self.calibration.iterrows()]
        return to_jsonable(
            {
                "sink_dir": str(self.sink_dir),
                "info": self.info,
                "counts": self.counts,
                "labels": self.labels,
                "metrics": self.metrics,
                "calibration": buckets,
                "latency": self.latency,
                "throughput": self.throughput,
            }
        )


def latency_summary(values: Any) -> dict[str, float]:
    """``n``, ``p50``, ``p90``, ``p99``, ``max`` and ``mean`` of the finite values (NaN for none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"n": 0, **{f"p{q}": float("nan") for q in _PERCENTILES}, "max": float("nan"), "mean": float("nan")}
    pct = np.percentile(v, _PERCENTILES)
    return {
        "n": int(v.size),
        **{f"p{q}": float(p) for q, p in zip(_PERCENTILES, pct)},
        "max": float(v.max()),
        "mean": float(v.mean()),
    }


def _latency(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    out = {c: latency_summary(frame[c]) for c in LATENCY_COLUMNS}
    consumer = (frame["published_ns"].to_numpy(dtype=np.int64) - frame["received_ns"].to_numpy(dtype=np.int64)) / 1e3
    out["consumer_us"] = latency_summary(consumer)
    return out


def _throughput(frame: pd.DataFrame) -> dict[str, float]:
    received = frame["received_ns"].to_numpy(dtype=np.int64)
    published = frame["published_ns"].to_numpy(dtype=np.int64)
    out = {"events": int(len(frame))}
    starts = [("", received)]
    if "producer_ns" in frame.columns:
        starts.append(("pipeline_", frame["producer_ns"].to_numpy(dtype=np.int64)))
    for prefix, start in starts:
        seconds = (int(published.max()) - int(start.min())) / 1e9 if len(frame) else float("nan")
        out[f"{prefix}seconds"] = float(seconds)
        out[f"{prefix}events_per_s"] = float(len(frame) / seconds) if seconds > 0 else float("nan")
    return out


def _data_rows(sink_frame: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """The data row of each sink row: ``pos`` is the position within its day, so add the rows of earlier days."""
    pos = sink_frame["pos"].to_numpy(dtype=np.int64)
    if pos.size and pos.min() < 0:
        raise ValueError(expected("sink column 'pos'", "row positions >= 0", int(pos.min()), raw=True))
    if "day" not in frame.columns or frame["day"].nunique() <= 1:
        return pos
    days = pd.DatetimeIndex(frame["day"].to_numpy())
    first = pd.Series(np.arange(len(frame)), index=days).groupby(level=0).min()
    sink_days = pd.DatetimeIndex(pd.to_datetime(sink_frame["time"]).to_numpy()).normalize()
    offset = first.reindex(sink_days).to_numpy()
    if np.isnan(offset).any():
        bad = sink_days[np.isnan(offset)][0]
        raise ValueError(expected("sink column 'time'", "days of the data", str(bad.date()), raw=True,
                                  hint="is --data the file that was replayed?"))  # fmt: skip
    return offset.astype(np.int64) + pos


def _positions(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Unique sink rows by data ``row`` (the first of duplicates), sorted; the duplicates and gaps found."""
    row = frame["row"].to_numpy(dtype=np.int64)
    dup = pd.Series(row).duplicated(keep="first").to_numpy()
    unique = frame.loc[~dup].sort_values("row", kind="stable").reset_index(drop=True)
    urow = unique["row"].to_numpy(dtype=np.int64)
    steps = np.diff(urow)
    gaps = [[int(a) + 1, int(b) - 1] for a, b, s in zip(urow[:-1], urow[1:], steps) if s > 1]
    counts = {
        "sink_rows": int(len(frame)),
        "unique_rows": int(len(unique)),
        "duplicates": int(dup.sum()),
        "duplicate_rows": sorted({int(p) for p in row[dup]})[:20],
        "gaps": int((steps - 1).clip(min=0).sum()),
        "gap_ranges": gaps[:20],
        "first_row": int(urow[0]) if urow.size else None,
        "last_row": int(urow[-1]) if urow.size else None,
    }
    return unique, counts


def _label_proba(sink: SinkData, unique: pd.DataFrame) -> np.ndarray:
    """``(n, 3)`` probabilities over :data:`LABEL_CLASSES` (0 for a class the model never predicts)."""
    unknown = [c for c in sink.classes if c not in LABEL_CLASSES]
    if unknown:
        raise ValueError(
            expected(
                "sink columns",
                f"p_<class> for classes among {LABEL_CLASSES} (the label classes)",
                [f"p_{c}" for c in unknown],
                at=str(sink.path),
            )
        )
    out = np.zeros((len(unique), len(LABEL_CLASSES)))
    for c in sink.classes:
        out[:, LABEL_CLASSES.index(c)] = unique[f"p_{c}"].to_numpy(dtype=np.float64)
    return out


def _manifest_value(manifest: Mapping[str, Any], *keys: str) -> Any:
    return next((manifest[k] for k in keys if manifest.get(k) is not None), None)


def _load_data(sink: SinkData, data: Any) -> tuple[pd.DataFrame, str]:
    from signalbench.data import load_lobster

    if isinstance(data, pd.DataFrame):
        return data, "the given DataFrame"
    path = data if data is not None else _manifest_value(sink.manifest, "source", "source_path", "data")
    if path is None:
        raise ValueError(
            expected(
                "data",
                "the replayed data (the manifest records no source path)",
                "none",
                at=str(sink.path),
                raw=True,
                hint="pass --data PATH",
            )
        )
    crossed = _manifest_value(sink.manifest, "crossed") or "raise"
    return load_lobster(path, crossed=crossed), str(path)


def _check_same_data(sink: SinkData, frame: pd.DataFrame, source: str) -> None:
    """Refuse data of another symbol or without the days the manifest records (``ticker``, ``days``: the replay's)."""
    hint = "pass the file that was replayed, or leave --data out to use the manifest's source"
    recorded = sink.manifest.get("ticker")
    ticker = frame.attrs.get("ticker")
    if recorded not in (None, "None") and ticker is not None and ticker != recorded:
        raise ValueError(expected("--data", f"the replayed data of {recorded} (the sink's manifest)",
                                  f"{source}, data of {ticker}", raw=True, hint=hint))  # fmt: skip
    days = sink.manifest.get("days")
    if not isinstance(days, list) or not days or "day" not in frame.columns:
        return
    have = sorted({str(d.date()) for d in pd.DatetimeIndex(frame["day"].unique())})
    if any(day not in have for day in days):
        raise ValueError(expected("--data", f"the replayed day(s) {', '.join(days)} (the sink's manifest)",
                                  f"{source}, data of {', '.join(have)}", raw=True, hint=hint))  # fmt: skip


def _run_and_model(sink: SinkData) -> tuple[Any, Any]:
    """The run folder and the model folder the manifest records (None when absent)."""
    return _manifest_value(sink.manifest, "run_dir", "run"), _manifest_value(sink.manifest, "model_dir", "model")


def _info(sink: SinkData, source: str) -> dict[str, Any]:
    frame = sink.frame
    one = {c: sorted({str(v) for v in frame[c].unique()}) for c in ("model", "mode", "backend") if c in frame}
    run, model = _run_and_model(sink)
    return {
        "model": model,
        "run_dir": run,
        "data": source,
        "files": [p.name for p in sink.files],
        "classes": list(sink.classes),
        **{k: v[0] if len(v) == 1 else v for k, v in one.items()},
    }


def _join(unique: pd.DataFrame, proba: np.ndarray, labels: np.ndarray, first_scored: int, n_data: int):
    """The scored rows and the counts of the rows left out (no prediction, no label, before the first scored)."""
    pos = unique["row"].to_numpy(dtype=np.int64)
    if pos.size and pos[-1] >= n_data:
        raise ValueError(
            expected(
                "sink column 'pos'",
                f"row positions < {n_data} (the rows of the data)",
                int(pos[-1]),
                raw=True,
                hint="is --data the file that was replayed?",
            )
        )
    predicted = np.isfinite(proba).all(axis=1)
    y = labels[pos]
    early = pos < first_scored
    labelled = np.isfinite(y)
    keep = predicted & labelled & ~early
    counts = {
        "no_prediction": int((~predicted).sum()),
        "no_label": int((predicted & ~labelled).sum()),
        "before_first_scored": int((predicted & labelled & early).sum()),
        "scored": int(keep.sum()),
    }
    scored = pd.DataFrame({"row": pos[keep], "label": y[keep]})
    for j, c in enumerate(LABEL_CLASSES):
        scored[f"{_MODEL}:p{c}"] = proba[keep, j]
    return scored, counts, predicted


def _pred_mismatch(unique: pd.DataFrame, proba: np.ndarray, predicted: np.ndarray) -> int:
    argmax = np.asarray(LABEL_CLASSES, dtype=np.float64)[np.argmax(np.where(np.isnan(proba), -1.0, proba), axis=1)]
    pred = pd.to_numeric(unique["pred"], errors="coerce").to_numpy(dtype=np.float64)
    return int((predicted & (pred != argmax)).sum())


def _score(scored: pd.DataFrame, bins: int) -> tuple[dict[str, Any], pd.DataFrame]:
    proba = scored[[f"{_MODEL}:p{c}" for c in LABEL_CLASSES]].to_numpy()
    metrics = classification_metrics(scored["label"].to_numpy(), proba, LABEL_CLASSES)
    calib = (
        calibration_table(scored, _MODEL, bins=bins)
        if len(scored)
        else pd.DataFrame(columns=["count", "mean_confidence", "hit_rate"])
    )
    return metrics, calib


def evaluate(
    sink_dir: str | Path,
    *,
    data: Any = None,
    labels: Mapping[str, Any] | None = None,
    bins: int = 10,
    write: bool = True,
) -> StreamEvaluation:
    """Join a sink's predictions with the realised labels and score them; write ``evaluation.json`` and ``.html``.

    Parameters
    ----------
    sink_dir : path
        The sink folder (``manifest.json`` and the Parquet files it lists; nothing else is read).
    data : path or pandas.DataFrame, optional
        The replayed data (a LOBSTER path for :func:`signalbench.data.load_lobster`, or its frame); default: the
        source path the manifest records. Its row positions must be the sink's ``pos``.
    labels : mapping, optional
        The label definition (``kind``, ``horizon``, ``threshold`` or ``stationary_quantile``); default: the run
        folder's, see :mod:`signalbench.streaming.realised`.
    bins : int, default 10
        Calibration buckets of equal width over [0, 1].
    write : bool, default True
        Write ``evaluation.json`` and ``evaluation.html`` into ``sink_dir`` (each atomically).

    Returns
    -------
    StreamEvaluation

    Raises
    ------
    FileNotFoundError
        No sink folder, manifest or listed file, or no data.
    ValueError
        A corrupt listed file or manifest (named), a missing column, positions outside the data, no label definition.
    """
    bins = integer(bins, "bins", minimum=1, maximum=1000)
    sink = load_sink(sink_dir)
    frame, source = _load_data(sink, data)
    _check_same_data(sink, frame, source)
    sink.frame["row"] = _data_rows(sink.frame, frame)
    unique, counts = _positions(sink.frame)
    proba = _label_proba(sink, unique)
    run, model = _run_and_model(sink)
    spec = label_spec(run, model, labels)
    y, label_info = realised_labels(frame, spec, unique["row"].to_numpy(dtype=np.int64))
    unseen, why = first_unseen_row(run, model, source)
    first = label_info.get("first_scored_row", 0)
    scored, join_counts, predicted = _join(unique, proba, y, max(first, unseen), len(frame))
    counts.update(join_counts)
    if why is not None:
        rows = unique["row"].to_numpy(dtype=np.int64)
        counts["in_sample"] = int((predicted & np.isfinite(y[rows]) & (rows < unseen)).sum())
        label_info = {**label_info, "first_unseen_row": unseen, "in_sample": why}
    counts["pred_mismatch"] = _pred_mismatch(unique, proba, predicted)
    metrics, calib = _score(scored, bins)
    result = StreamEvaluation(
        sink_dir=Path(sink_dir),
        info=_info(sink, source),
        counts=counts,
        labels=label_info,
        metrics=metrics,
        calibration=calib,
        latency=_latency(unique),
        throughput=_throughput(unique),
        scored=scored,
    )
    if write:
        write_evaluation(result)
    return result


def write_evaluation(result: StreamEvaluation) -> tuple[Path, Path]:
    """Write ``evaluation.json`` and ``evaluation.html`` into the sink folder, each atomically; return the paths."""
    text = json.dumps(result.to_dict(), indent=1, sort_keys=True, allow_nan=False)
    js = write_text(result.sink_dir / "evaluation.json", text + "\n")
    html = write_text(result.sink_dir / "evaluation.html", render_evaluation(result))
    return js, html
