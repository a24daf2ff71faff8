"""Stream evaluation: sinks built directly (pyarrow, the contract's format) from known predictions, scored against
independent computations (scikit-learn, NumPy, the standard library), on the shared AMZN sample and on synthetic data.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from signalbench.streaming.analytics import evaluate, latency_summary
from signalbench.streaming.sinkread import load_sink

AMZN = "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
CLASSES = (0, 1, 2)


# --------------------------------------------------------------------------------------------------- sink building


def sink_rows(
    n_data: int, first: int, last: int, labels: np.ndarray | None, seed: int = 0, warmup: int = 20, classes=CLASSES
) -> pd.DataFrame:
    """Rows for positions first..last: informative probabilities (mixed with the label when given), NaN in warm-up."""
    rng = np.random.default_rng(seed)
    pos = np.arange(first, last + 1, dtype=np.int64)
    k = len(classes)
    proba = rng.dirichlet(np.ones(k), size=pos.size)
    if labels is not None:
        y = labels[pos]
        ok = np.isfinite(y)
        onehot = np.zeros((pos.size, k))
        onehot[ok, y[ok].astype(int)] = 1.0
        proba = np.where(ok[:, None], 0.55 * proba + 0.45 * onehot, proba)
    proba[:warmup] = np.nan
    pred = np.where(
        np.isfinite(proba).all(axis=1), np.asarray(classes, float)[np.argmax(np.nan_to_num(proba), 1)], np.nan
    )
    produced = 1_700_000_000_000_000_000 + pos * 20_000
    received = produced + rng.integers(100, 5_000, pos.size)
    published = received + rng.integers(10_000, 90_000, pos.size)
    frame = pd.DataFrame(
        {
            "event_id": [f"{1_000 + p}-0" for p in pos],
            "pos": pos,
            "time": pd.to_datetime(1_340_000_000_000_000_000 + pos * 1_000_000, unit="ns"),
            "pred": pred,
            **{f"p_{c}": proba[:, j] for j, c in enumerate(classes)},
            "mode": "window",
            "backend": "torch",
            "model": "lstm",
            "feature_us": rng.gamma(2.0, 2.0, pos.size),
            "model_us": rng.gamma(3.0, 40.0, pos.size),
            "e2e_us": (published - produced) / 1e3,
            "producer_ns": produced.astype(np.int64),
            "received_ns": received.astype(np.int64),
            "published_ns": published.astype(np.int64),
        }
    )
    return frame


def write_sink(sink: Path, rows: pd.DataFrame, batch: int = 1000, **manifest) -> Path:
    """The contract's layout: Parquet files named by event id range, listed in manifest.json."""
    sink.mkdir(parents=True, exist_ok=True)
    files = []
    for start in range(0, len(rows), batch):
        part = rows.iloc[start : start + batch]
        name = f"{part['event_id'].iloc[0]}_{part['event_id'].iloc[-1]}.parquet"
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), sink / name)
        files.append(
            {
                "name": name,
                "first_id": part["event_id"].iloc[0],
                "last_id": part["event_id"].iloc[-1],
                "rows": len(part),
            }
        )
    (sink / "manifest.json").write_text(json.dumps({"files": files, **manifest}))
    return sink


# ------------------------------------------------------------------------------------------ independent references


def direction_labels(mid: np.ndarray, horizon: int, threshold: float = 0.0) -> np.ndarray:
    """One day: 2 up / 0 down / 1 stationary by mid[t + h] / mid[t] - 1 against the threshold (+ float tolerance)."""
    out = np.full(mid.size, np.nan)
    r = mid[horizon:] / mid[:-horizon] - 1.0
    bound = threshold + 1e-10
    out[:-horizon] = np.where(r > bound, 2.0, np.where(r < -bound, 0.0, 1.0))
    return out


def smoothed_change(mid: np.ndarray, horizon: int) -> np.ndarray:
    out = np.full(mid.size, np.nan)
    csum = np.concatenate([[0.0], np.cumsum(mid)])
    t = np.arange(mid.size - horizon)
    out[t] = (csum[t + horizon + 1] - csum[t + 1]) / horizon / mid[t] - 1.0
    return out


def calibration_reference(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> dict[int, tuple[int, float, float]]:
    conf = proba.max(axis=1)
    hit = (np.argmax(proba, axis=1) == y).astype(float)
    out = {}
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (conf >= lo) & ((conf < hi) if b < bins - 1 else (conf <= hi))
        if inside.any():
            out[b] = (int(inside.sum()), float(conf[inside].mean()), float(hit[inside].mean()))
    return out


@pytest.fixture(scope="module")
def amzn(shared_data):
    from signalbench.data import load_lobster

    path = shared_data / "lobster" / AMZN
    frame = load_lobster(path)
    mid = (frame["ask_price_1"].to_numpy() + frame["bid_price_1"].to_numpy()) / 2
    return path, frame, mid


# -------------------------------------------------------------------------------------------------------- the tests


def test_metrics_match_sklearn_on_amzn(amzn, tmp_path):
    path, frame, mid = amzn
    h = 5
    y_all = direction_labels(mid, h)
    rows = sink_rows(len(frame), 0, len(frame) - 1, y_all, seed=1)
    sink = write_sink(tmp_path / "sink", rows, batch=5000, source=str(path))
    ev = evaluate(sink, labels={"kind": "direction", "horizon": h})
    proba = rows[["p_0", "p_1", "p_2"]].to_numpy()
    keep = np.isfinite(proba).all(axis=1) & np.isfinite(y_all)
    y, p = y_all[keep].astype(int), proba[keep]
    pred = np.argmax(p, axis=1)
    assert ev.counts["scored"] == keep.sum()
    assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert ev.metrics["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert ev.metrics["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro", labels=[0, 1, 2]), abs=1e-12)
    assert ev.metrics["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=[0, 1, 2]), rel=1e-9)
    assert np.array_equal(np.asarray(ev.metrics["confusion"]), skm.confusion_matrix(y, pred, labels=[0, 1, 2]))
    assert ev.metrics["accuracy"] > 0.5  # the planted information is found: the join is on the right rows
    assert ev.counts["no_label"] == h  # the day's last h rows
    assert ev.counts["no_prediction"] == 20
    assert ev.counts["duplicates"] == 0 and ev.counts["gaps"] == 0 and ev.counts["pred_mismatch"] == 0


def test_calibration_buckets_match_numpy(amzn, tmp_path):
    path, frame, mid = amzn
    y_all = direction_labels(mid, 10)
    rows = sink_rows(len(frame), 1000, 20_000, y_all, seed=2)
    ev = evaluate(write_sink(tmp_path / "s", rows, source=str(path)), labels={"kind": "direction", "horizon": 10})
    proba = rows[["p_0", "p_1", "p_2"]].to_numpy()
    y = y_all[rows["pos"].to_numpy()]
    keep = np.isfinite(proba).all(axis=1) & np.isfinite(y)
    ref = calibration_reference(proba[keep], y[keep])
    got = ev.calibration
    assert len(got) == len(ref) >= 4
    for (count, conf, hit), (_, row) in zip(ref.values(), got.iterrows()):
        assert row["count"] == count
        assert row["mean_confidence"] == pytest.approx(conf, abs=1e-12)
        assert row["hit_rate"] == pytest.approx(hit, abs=1e-12)
    assert sum(r["count"] for _, r in got.iterrows()) == ev.counts["scored"]


def test_latency_and_throughput_against_the_standard_library(tmp_path):
    n = 3000
    mid = 100 + np.cumsum(np.random.default_rng(3).choice([-0.01, 0.0, 0.01], n))
    frame = _frame_from_mid(mid)
    rows = sink_rows(n, 0, n - 1, direction_labels(mid, 1), seed=3)
    ev = evaluate(write_sink(tmp_path / "s", rows, batch=700), data=frame, labels={"kind": "direction"})
    for col in ("feature_us", "model_us", "e2e_us"):
        v = rows[col].to_list()
        q = statistics.quantiles(v, n=100, method="inclusive")  # q[k-1] is the k-th percentile, linear
        got = ev.latency[col]
        assert got["p50"] == pytest.approx(statistics.median(v), rel=1e-12)
        assert got["p90"] == pytest.approx(q[89], rel=1e-12)
        assert got["p99"] == pytest.approx(q[98], rel=1e-12)
        assert got["max"] == max(v) and got["n"] == n
    consumer = ((rows["published_ns"] - rows["received_ns"]) / 1e3).to_list()
    assert ev.latency["consumer_us"]["p99"] == pytest.approx(
        statistics.quantiles(consumer, n=100, method="inclusive")[98], rel=1e-12
    )
    span = (rows["published_ns"].max() - rows["received_ns"].min()) / 1e9
    pipeline = (rows["published_ns"].max() - rows["producer_ns"].min()) / 1e9
    assert ev.throughput["events"] == n
    assert ev.throughput["events_per_s"] == pytest.approx(n / span, rel=1e-12)
    assert ev.throughput["pipeline_events_per_s"] == pytest.approx(n / pipeline, rel=1e-12)
    assert ev.throughput["pipeline_events_per_s"] < ev.throughput["events_per_s"]


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_latency_summary_is_ordered_and_bounded(values):
    s = latency_summary(values)
    assert min(values) <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"] == max(values)


def _frame_from_mid(mid: np.ndarray) -> pd.DataFrame:
    n = mid.size
    index = pd.DatetimeIndex(
        pd.Timestamp("2024-01-02 09:30") + pd.to_timedelta(np.arange(n), unit="s"), name="timestamp"
    )
    return pd.DataFrame({"ask_price_1": mid + 0.005, "bid_price_1": mid - 0.005, "day": np.zeros(n, int)}, index=index)


@pytest.fixture
def synthetic(tmp_path):
    n = 2000
    mid = 50 + np.cumsum(np.random.default_rng(4).choice([-0.01, 0.0, 0.01], n))
    frame = _frame_from_mid(mid)
    y = direction_labels(mid, 2)
    return frame, y, sink_rows(n, 0, n - 1, y, seed=4, warmup=0)


def _scores(ev):
    return {k: ev.metrics[k] for k in ("accuracy", "macro_f1", "log_loss")}, ev.counts["scored"]


def test_unlisted_and_temporary_files_are_ignored(synthetic, tmp_path):
    frame, _, rows = synthetic
    labels = {"kind": "direction", "horizon": 2}
    sink = write_sink(tmp_path / "s", rows.iloc[:1500], batch=500)
    before = _scores(evaluate(sink, data=frame, labels=labels, write=False))
    write_sink(tmp_path / "other", rows.iloc[1500:], batch=500)  # a finished file never listed (crash before manifest)
    for f in (tmp_path / "other").glob("*.parquet"):
        f.rename(sink / f.name)
    (sink / ".1-0_9-0.parquet.tmp").write_bytes(b"PAR1 half written")
    (sink / "junk.parquet").write_bytes(b"not parquet at all")
    after = evaluate(sink, data=frame, labels=labels, write=False)
    assert _scores(after) == before
    assert after.counts["last_row"] == 1499
    assert len(load_sink(sink).files) == 3


def test_a_corrupt_listed_file_is_an_error_naming_it(synthetic, tmp_path):
    frame, _, rows = synthetic
    sink = write_sink(tmp_path / "s", rows, batch=500)
    victim = sorted(sink.glob("*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:200])
    with pytest.raises(ValueError, match=rf"files\[\d\]: expected a readable Parquet file.*{victim.name}"):
        evaluate(sink, data=frame, labels={"kind": "direction"})
    assert not (sink / "evaluation.json").exists()


def test_missing_listed_file_and_missing_column_are_named(synthetic, tmp_path):
    frame, _, rows = synthetic
    sink = write_sink(tmp_path / "s", rows, batch=500)
    first = sorted(sink.glob("*.parquet"))[0]
    first.unlink()
    with pytest.raises(FileNotFoundError, match=first.name):
        load_sink(sink)
    sink2 = write_sink(tmp_path / "s2", rows.drop(columns=["model_us"]), batch=500)
    with pytest.raises(ValueError, match="model_us"):
        load_sink(sink2)
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        load_sink(tmp_path)


def test_missing_labels_duplicates_and_gaps_are_counted(synthetic, tmp_path):
    frame, y, rows = synthetic
    n = len(frame)
    dup = rows.iloc[[100, 101, 102]]
    holed = rows.drop(index=range(500, 510))
    sink = write_sink(tmp_path / "s", pd.concat([holed, dup], ignore_index=True), batch=400)
    ev = evaluate(sink, data=frame, labels={"kind": "direction", "horizon": 2})
    assert ev.counts["duplicates"] == 3 and ev.counts["duplicate_rows"] == [100, 101, 102]
    assert ev.counts["gaps"] == 10 and ev.counts["gap_ranges"] == [[500, 509]]
    assert ev.counts["no_label"] == 2  # positions n-2, n-1: their horizon leaves the day
    assert ev.counts["scored"] == n - 10 - 2
    text = (sink / "evaluation.html").read_text()
    assert "3 duplicated positions" in text and "10 positions missing" in text
    assert np.isfinite(y[ev.scored["row"].to_numpy()]).all()


def _run_folder(tmp_path: Path, labels: dict, thresholds: list[float] | None) -> Path:
    run = tmp_path / "run"
    (run / "models" / "lstm-fold2").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"labels": labels}))
    if thresholds is not None:
        (run / "metrics.json").write_text(json.dumps({"labels": [{"threshold": t} for t in thresholds]}))
    return run


def test_the_run_folders_fitted_threshold_is_used(amzn, tmp_path):
    path, frame, mid = amzn
    h = 10
    change = smoothed_change(mid, h)
    t1, t2 = 1e-5, float(np.quantile(np.abs(change[np.isfinite(change)]), 0.5))
    run = _run_folder(tmp_path, {"kind": "smoothed_direction", "horizon": h, "stationary_quantile": 0.33}, [t1, t2])
    rows = sink_rows(len(frame), 0, 9999, None, seed=5)
    sink = write_sink(
        tmp_path / "s", rows, source=str(path), run_dir=str(run), model_dir=str(run / "models" / "lstm-fold2")
    )
    ev = evaluate(sink)
    assert ev.labels["threshold"] == t2 and "labels[1]" in ev.labels["threshold_source"]
    c = change[ev.scored["row"].to_numpy()]
    expect = np.where(c > t2 + 1e-10, 2, np.where(c < -t2 - 1e-10, 0, 1))
    assert np.array_equal(ev.scored["label"].to_numpy(), expect)


def test_an_unrecorded_quantile_threshold_is_fit_on_the_head_only(amzn, tmp_path):
    path, frame, mid = amzn
    h = 10
    run = _run_folder(tmp_path, {"kind": "smoothed_direction", "horizon": h, "stationary_quantile": 0.4}, None)
    rows = sink_rows(len(frame), 3000, 8999, None, seed=6, warmup=0)
    sink = write_sink(tmp_path / "s", rows, source=str(path), run_dir=str(run), model_dir=str(run / "models" / "x"))
    ev = evaluate(sink)
    head = np.arange(3000, 5000)  # the first third of the 6000 streamed (all labelled) rows
    change = smoothed_change(mid, h)
    assert ev.labels["threshold"] == pytest.approx(np.quantile(np.abs(change[head]), 0.4), rel=1e-12)
    assert ev.labels["threshold_fit_on"] == [3000, 4999]
    assert ev.scored["row"].min() == 4999 + h + 1
    assert ev.counts["before_first_scored"] == 2000 + h


def test_outputs_are_written_and_readable(synthetic, tmp_path):
    frame, _, rows = synthetic
    sink = write_sink(tmp_path / "s", rows, batch=500)
    ev = evaluate(sink, data=frame, labels={"kind": "direction", "horizon": 2})
    doc = json.loads((sink / "evaluation.json").read_text())
    assert doc["metrics"]["accuracy"] == ev.metrics["accuracy"]
    assert doc["counts"]["scored"] == ev.counts["scored"]
    assert sum(b["count"] for b in doc["calibration"]) == ev.counts["scored"]
    html = (sink / "evaluation.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "http" not in html.replace("http-equiv", "")
    assert sorted(p.name for p in sink.iterdir() if p.name.startswith(".")) == []


def test_probabilities_of_unknown_classes_are_refused(synthetic, tmp_path):
    frame, _, rows = synthetic
    shifted = rows.rename(columns={"p_0": "p_-1", "p_1": "p_0", "p_2": "p_1"})
    with pytest.raises(ValueError, match=r"p_-1"):
        evaluate(write_sink(tmp_path / "s", shifted), data=frame, labels={"kind": "direction"})


def test_no_label_definition_is_a_clear_error(synthetic, tmp_path):
    frame, _, rows = synthetic
    with pytest.raises(ValueError, match="labels: expected the label definition"):
        evaluate(write_sink(tmp_path / "s", rows), data=frame)


def test_the_page_renders_in_a_real_browser(synthetic, tmp_path):
    from tests.conftest import require_executable

    chromium = require_executable("chromium")
    from playwright.sync_api import sync_playwright

    frame, _, rows = synthetic
    sink = write_sink(tmp_path / "s", rows, batch=500)
    evaluate(sink, data=frame, labels={"kind": "direction", "horizon": 2})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto((sink / "evaluation.html").as_uri())
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        finally:
            browser.close()
    assert len(widths) == 3 and min(widths) > 100  # every figure decoded
    assert {"Reliability", "Confusion matrix", "Latency (microseconds per event)"} <= set(headings)


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(5, 300),
    horizon=st.integers(1, 4),
    batch=st.integers(1, 120),
    sharp=st.floats(0.05, 20.0),
)
def test_any_sink_scores_like_sklearn_and_numpy(tmp_path_factory, seed, n, horizon, batch, sharp):
    """Property: whatever the batching, warm-up and probability shape, the scores are the independent ones."""
    rng = np.random.default_rng(seed)
    mid = 20 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n))
    frame = _frame_from_mid(mid)
    y_all = direction_labels(mid, horizon)
    rows = sink_rows(n, 0, n - 1, None, seed=seed % 1000, warmup=int(rng.integers(0, n // 2 + 1)))
    proba = rng.dirichlet(np.full(3, 1.0 / sharp), size=n)
    proba[np.isnan(rows["p_0"].to_numpy())] = np.nan
    for j in range(3):
        rows[f"p_{j}"] = proba[:, j]
    sink = write_sink(tmp_path_factory.mktemp("sink"), rows, batch=batch)
    ev = evaluate(sink, data=frame, labels={"kind": "direction", "horizon": horizon}, write=False)
    keep = np.isfinite(proba).all(axis=1) & np.isfinite(y_all)
    assert ev.counts["scored"] == keep.sum()
    assert ev.counts["no_label"] == (np.isfinite(proba).all(axis=1) & ~np.isfinite(y_all)).sum()
    if keep.any():
        y, p = y_all[keep].astype(int), proba[keep]
        assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, np.argmax(p, 1)), abs=1e-12)
        f1 = skm.f1_score(y, np.argmax(p, 1), average="macro", labels=[0, 1, 2], zero_division=0)
        assert ev.metrics["macro_f1"] == pytest.approx(f1, abs=1e-12)
        ref = calibration_reference(p, y)
        assert [int(c) for c in ev.calibration["count"]] == [v[0] for v in ref.values()]
        np.testing.assert_allclose(ev.calibration["hit_rate"], [v[2] for v in ref.values()], atol=1e-12)


def test_two_days_join_on_the_day_and_its_position(tmp_path):
    """pos counts within a day: the second day's pos 0 is the data's row n1; labels never reach across days."""
    rng = np.random.default_rng(8)
    n1, n2, h = 700, 500, 3
    mids = [30 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n)) for n in (n1, n2)]
    frames = []
    for d, mid in enumerate(mids):
        f = _frame_from_mid(mid)
        f.index = f.index + pd.Timedelta(days=d)
        f["day"] = f.index.normalize()
        frames.append(f)
    frame = pd.concat(frames)
    y_days = [direction_labels(m, h) for m in mids]
    parts = []
    for d, (f, y) in enumerate(zip(frames, y_days)):
        rows = sink_rows(len(f), 0, len(f) - 1, y, seed=d, warmup=5)
        rows["time"] = f.index.to_numpy()
        rows["event_id"] = [f"{d}-{p + 1}" for p in rows["pos"]]
        parts.append(rows)
    both = pd.concat(parts, ignore_index=True)
    ev = evaluate(write_sink(tmp_path / "s", both, batch=300), data=frame, labels={"kind": "direction", "horizon": h})
    assert ev.counts["duplicates"] == 0 and ev.counts["gaps"] == 0 and ev.counts["last_row"] == n1 + n2 - 1
    assert ev.counts["no_label"] == 2 * h  # the last h rows of each day
    y = np.concatenate(y_days)
    proba = both[["p_0", "p_1", "p_2"]].to_numpy()
    keep = np.isfinite(proba).all(axis=1) & np.isfinite(y)
    assert ev.counts["scored"] == keep.sum()
    assert np.array_equal(ev.scored["label"].to_numpy(), y[keep])
    assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y[keep], np.argmax(proba[keep], 1)), abs=1e-12)


@pytest.fixture(scope="module")
def amzn_run(shared_data, tmp_path_factory):
    """A real walk-forward run on the AMZN day (two folds, each with its own fitted stationary threshold)."""
    from signalbench.experiment import compare

    cfg = {
        "name": "amzn-stream-eval",
        "seed": 0,
        "device": "cpu",
        "features": "lob_basic",
        "data": {"kind": "lobster", "path": str(shared_data / "lobster" / AMZN), "levels": 1},
        "labels": {"kind": "smoothed_direction", "horizon": 10, "stationary_quantile": 0.33},
        "split": {"kind": "walk_forward", "n_folds": 2, "test": 0.3},
        "models": [{"name": "logistic"}],
        "strategies": [{"rule": "sign"}],
    }
    out = tmp_path_factory.mktemp("runs") / "run"
    compare(cfg, out=out, report=False)
    return out


@pytest.mark.parametrize("fold", [1, 2])
def test_offline_predictions_of_a_real_run_score_as_offline(amzn_run, shared_data, tmp_path, fold):
    """A sink holding a run's own tested predictions of one fold: the realised labels are the run's, row for row."""
    pred = pd.read_parquet(amzn_run / "predictions.parquet")
    span = json.loads((amzn_run / "metrics.json").read_text())["split"]["folds"][fold - 1]["span"]
    part = pred[(pred["row"] >= span[0]) & (pred["row"] < span[1])].reset_index(drop=True)
    proba = part[[f"logistic:p{c}" for c in CLASSES]].to_numpy()
    rows = sink_rows(int(part["row"].max()) + 1, int(part["row"].min()), int(part["row"].max()), None, warmup=0)
    for j, c in enumerate(CLASSES):
        rows[f"p_{c}"] = proba[:, j]
    rows["pred"] = np.argmax(proba, axis=1)
    model_dir = amzn_run / "models" / f"logistic-fold{fold}"
    sink = write_sink(tmp_path / "s", rows, batch=4000, source=str(shared_data / "lobster" / AMZN),
                      run_dir=str(amzn_run), model_dir=str(model_dir))  # fmt: skip
    ev = evaluate(sink)
    assert f"labels[{fold - 1}]" in ev.labels["threshold_source"]
    offline = part["label"].to_numpy()
    keep = np.isfinite(offline)
    assert np.array_equal(ev.scored["row"].to_numpy(), part["row"].to_numpy()[keep])
    assert np.array_equal(ev.scored["label"].to_numpy(), offline[keep])
    y, p = offline[keep].astype(int), proba[keep]
    assert ev.metrics["macro_f1"] == pytest.approx(skm.f1_score(y, p.argmax(1), average="macro"), abs=1e-12)
    # (the two folds' thresholds differ in the 3rd digit but label these rows alike: the fold choice itself is
    # checked by test_the_run_folders_fitted_threshold_is_used, whose folds' thresholds differ widely)


def test_cli_stream_evaluate(amzn, tmp_path, capsys):
    from signalbench.cli import main

    path, frame, mid = amzn
    rows = sink_rows(len(frame), 0, 4999, direction_labels(mid, 3), seed=9)
    sink = write_sink(tmp_path / "s", rows, source=str(path))
    assert main(["stream", "evaluate", str(sink), "--label-kind", "direction", "--horizon", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((sink / "evaluation.json").read_text())
    assert printed["labels"]["horizon"] == 3 and printed["counts"]["scored"] == 5000 - 20
    assert main(["stream", "evaluate", str(sink), "--label-kind", "direction", "--horizon", "3"]) == 0
    out = capsys.readouterr().out
    assert "macro_f1" in out and "p99" in out and "evaluation.html" in out
    assert main(["stream", "evaluate", str(sink)]) == 2  # no run folder, no labels given
    assert "--label-kind" in capsys.readouterr().err
    assert main(["stream", "evaluate", str(tmp_path / "missing")]) == 2
    assert "sink_dir: expected an existing sink folder" in capsys.readouterr().err


def test_data_of_another_symbol_or_day_is_refused(amzn, shared_data, tmp_path, capsys):
    """The manifest records the replay's symbol and days: another file is refused, not scored against its labels."""
    from signalbench.cli import main

    path, frame, mid = amzn
    rows = sink_rows(len(frame), 0, 2999, direction_labels(mid, 3), seed=9)
    sink = write_sink(tmp_path / "s", rows, source=str(path), ticker="AMZN", days=["2012-06-21"])
    goog = shared_data / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"
    args = ["stream", "evaluate", str(sink), "--label-kind", "direction", "--horizon", "3"]
    assert main([*args, "--data", str(goog)]) == 2
    assert (f"--data: expected the replayed data of AMZN (the sink's manifest), got {goog}, data of GOOG; pass the "
            "file that was replayed") in capsys.readouterr().err  # fmt: skip
    next_day = frame.copy()
    next_day.index = next_day.index + pd.Timedelta(days=1)
    next_day["day"] = next_day["day"] + pd.Timedelta(days=1)
    with pytest.raises(ValueError, match=r"--data: expected the replayed day\(s\) 2012-06-21 \(the sink's manifest\), "
                                         r"got the given DataFrame, data of 2012-06-22"):  # fmt: skip
        evaluate(sink, data=next_day, labels={"kind": "direction", "horizon": 3}, write=False)
    assert main(args) == 0  # the manifest's own source


def test_cli_horizon_must_be_positive_and_come_with_the_label_kind(amzn, tmp_path, capsys):
    from signalbench.cli import main

    path, frame, mid = amzn
    sink = write_sink(tmp_path / "s", sink_rows(len(frame), 0, 999, direction_labels(mid, 1), seed=2), source=str(path))
    assert main(["stream", "evaluate", str(sink), "--label-kind", "direction", "--horizon", "0"]) == 2
    assert "--horizon: expected an integer >= 1, got 0" in capsys.readouterr().err
    assert main(["stream", "evaluate", str(sink), "--horizon", "3"]) == 2
    assert "--horizon, --threshold: expected them with --label-kind" in capsys.readouterr().err


def test_a_real_consumers_sink_evaluates_with_the_runs_labels(amzn_run, amzn, link, tmp_path):
    """replay -> Consumer -> ParquetSink on a real redis-server, a model from a real run folder: evaluate finds the
    run folder, the fold's threshold and the source in the manifest; its numbers match independent ones; and the rows
    the fold's model was fitted, validated and tuned on (the run's own data before its test block) are never scored."""
    import signalbench.signals as signals
    from signalbench.streaming import Consumer, InferConfig, ModelProcessor, ParquetSink
    from signalbench.streaming.replay import replay
    from signalbench.streaming.serve import sink_identity

    path, frame, mid = amzn
    metrics = json.loads((amzn_run / "metrics.json").read_text())
    unseen = metrics["split"]["folds"][1]["span"][0]  # fold 2's first tested row
    n, model_dir = unseen + 1500, amzn_run / "models" / "logistic-fold2"
    replay(path, "lob:events", link=link, limit=n)
    cfg = InferConfig(group="g", consumer="c1", exit_at_end=True, read_count=2000)
    meta = link.client.hgetall("lob:events:meta")
    proc = ModelProcessor(model_dir, mode="window", backend="torch", levels=int(meta["levels"]))
    sink = ParquetSink(tmp_path / "sink", sink_identity(proc, cfg, meta), batch_size=20_000, flush_interval=30.0)
    Consumer(link, proc, sink, cfg).run()
    ev = evaluate(tmp_path / "sink")  # everything from the manifest
    assert ev.labels["threshold"] == metrics["labels"][1]["threshold"] and ev.info["run_dir"] == str(amzn_run)
    proba = signals.load(model_dir).predict_proba(compute_features_of(frame.iloc[:n]))
    c = smoothed_change(mid, 10)[:n]
    t = ev.labels["threshold"]
    y = np.where(c > t + 1e-10, 2.0, np.where(c < -t - 1e-10, 0.0, 1.0))
    y[~np.isfinite(c)] = np.nan
    usable = np.isfinite(proba).all(axis=1) & np.isfinite(y)
    keep = usable & (np.arange(n) >= unseen)
    assert ev.counts["in_sample"] == usable[:unseen].sum() > 40_000 and ev.labels["first_unseen_row"] == unseen
    assert ev.counts["scored"] == keep.sum() > 1000 and ev.counts["sink_rows"] == n and ev.counts["gaps"] == 0
    assert ev.scored["row"].min() >= unseen
    pred = np.argmax(proba[keep], axis=1)
    assert ev.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y[keep], pred), abs=1e-12)
    assert ev.counts["pred_mismatch"] == 0
    assert "in-sample" in (tmp_path / "sink" / "evaluation.html").read_text()


def compute_features_of(frame):
    from signalbench.data import compute_features

    return compute_features(frame, "lob_basic")


def test_a_run_config_without_labels_is_refused_not_guessed(tmp_path):
    """A config.json with no labels section must not fall back to default labels (a silent wrong score)."""
    from signalbench.streaming.realised import label_spec

    (tmp_path / "config.json").write_text('{"features": ["lob_basic"]}')
    with pytest.raises(ValueError, match=r"labels: expected a 'labels' section in .*config\.json.*--label-kind"):
        label_spec(tmp_path)
    spec = label_spec(tmp_path, labels={"kind": "direction", "horizon": 20, "threshold": 1e-5})
    assert (spec.kind, spec.horizon) == ("direction", 20)
