"""The leakage audit on deliberately broken pipelines: each defect is caught by its check, the clean ones pass.

Small on purpose (baseline models, a few thousand synthetic ticks) so that the file runs in well under a minute.
"""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from signalbench.audit import (
    AuditWarning,
    check_causality,
    check_features,
    check_scalers,
    check_split,
    check_too_good,
)
from signalbench.cli import main
from signalbench.data import compute_features
from signalbench.experiment import compare
from signalbench.experiment.audit_run import audit_run
from signalbench.experiment.folds import Fold, make_folds
from signalbench.experiment.inputs import labels_for, load_inputs


def config(leaky: bool = False) -> dict:
    return {
        "name": "audit",
        "seed": 3,
        "device": "cpu",
        "features": ["lob_basic", "price_volume"],  # price_volume reads the raw imbalance column
        "data": {"kind": "synthetic", "n": 4000, "edge": 0.2, "ticks_per_day": 2000, "leaky": leaky},
        "labels": {"kind": "direction", "horizon": 1},
        "costs": {"fee_bps": 0.05, "half_spread_bps": 0.1},
        "models": [],
        "strategies": [{"rule": "sign"}],
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare(config(), out=tmp_path_factory.mktemp("runs") / "clean")
    inputs = load_inputs(res.experiment)
    folds, _ = make_folds(res.experiment, inputs.n, 1, inputs.groups)
    labels = labels_for(res.experiment, inputs, folds[0].train)[0]
    return res, inputs, folds, labels


def test_a_clean_run_passes_every_check_and_writes_audit_json(clean):
    res = clean[0]
    assert res.audit.clean, res.audit.findings
    saved = json.loads((res.run_dir / "audit.json").read_text())
    assert saved["clean"] and set(saved["checks"].values()) == {"passed"}
    assert len(saved["checks"]) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", AuditWarning)
        again = audit_run(res.run_dir)  # from the folder alone: the same verdict
    assert again.clean
    assert main(["audit", str(res.run_dir), "--strict"]) == 0


def test_generator_leaky_mode_is_too_good_to_be_true(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = compare(config(leaky=True), out=tmp_path / "leaky")
    found = [f for f in res.audit.findings if f.check == "too_good"]
    assert any(f.subject == "logistic" and "Bayes" in f.message for f in found), res.audit.findings
    assert any(issubclass(w.category, AuditWarning) and "logistic" in str(w.message) for w in caught)
    saved = json.loads((res.run_dir / "audit.json").read_text())
    assert not saved["clean"] and saved["checks"]["too_good"] != "passed"
    assert main(["audit", str(res.run_dir), "--strict"]) == 1


def test_a_feature_that_is_the_next_return(clean):
    _, inputs, _, labels = clean
    price = inputs.price.to_numpy()
    nxt = np.r_[np.log(price[1:] / price[:-1]), np.nan]
    targets = {"next return": nxt, "label": labels}
    rows = np.arange(inputs.n)
    assert check_features(inputs.features, targets, rows) == []
    leaky = inputs.features.assign(next_move=nxt)
    found = check_features(leaky, targets, rows)
    assert {f.subject for f in found} == {"next_move"}
    assert found[0].figures["rank_corr_future"] > 0.9 > found[0].figures["rank_corr_past"]


def test_labels_shifted_by_one_row(clean):
    _, inputs, _, labels = clean
    shifted = np.r_[np.nan, labels[:-1]]  # the label at t is the move into t: the features know it
    rows = np.arange(inputs.n)
    assert check_features(inputs.features, {"label": labels}, rows) == []
    found = check_features(inputs.features, {"label": shifted}, rows)
    assert "mid_ret_1" in {f.subject for f in found}


class ReadsAhead:
    """A fitted model whose prediction at row t uses the features of row t + 1."""

    def __init__(self, inner):
        self.inner = inner
        self.window, self.task = 1, "classification"

    def context_start(self, X, start: int) -> int:
        return start

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.inner.predict_proba(X.shift(-1).ffill())


def test_a_model_that_reads_one_row_ahead(clean):
    res, inputs, folds, _ = clean
    from signalbench.experiment.audit_run import predictor as _predictor

    model = res.models["logistic"][0]
    start, stop = folds[0].start, folds[0].stop
    cuts = [start + 50, (start + stop) // 2]

    def make(frame):
        return compute_features(frame, res.experiment.features)

    honest = {"logistic": (_predictor(model), start, stop)}
    assert check_causality(inputs.frame, make, honest, cuts) == []
    found = check_causality(inputs.frame, make, {"peek": (_predictor(ReadsAhead(model)), start, stop)}, cuts)
    assert [f.subject for f in found] == ["peek", "peek"]
    assert all(f.figures["first_changed_row"] == f.figures["cut"] for f in found)


def test_a_feature_that_reads_the_next_row(clean):
    res, inputs, folds, _ = clean

    def make(frame):
        feats = compute_features(frame, res.experiment.features)
        return feats.assign(peek=frame["price"].shift(-1).to_numpy())

    found = check_causality(inputs.frame, make, {}, [folds[0].start + 10])
    assert [f.subject for f in found] == ["peek"]


def test_a_split_with_the_purge_removed(clean):
    _, _, folds, _ = clean
    assert check_split(folds, horizon=1) == []
    f = folds[0]
    no_purge = Fold(np.arange(0, f.val[0]), f.val, f.test, f.start, f.stop)
    found = check_split([no_purge], horizon=1)
    assert len(found) == 1 and "purge" in found[0].message and "Next:" in found[0].message
    overlap = Fold(f.train, np.r_[f.val, f.test[:5]], f.test, f.start, f.stop)
    assert any("in both val and test" in x.message for x in check_split([overlap], horizon=1))


def test_a_scaler_fit_on_all_rows(clean):
    res, inputs, _, _ = clean
    model = res.models["logistic"][0]
    fits = res.fits["models"]
    assert check_scalers({"logistic": [model]}, inputs.features, fits) == []
    broken = copy.deepcopy(model)
    X = inputs.features.to_numpy()
    broken.scaler_mean_ = X[np.isfinite(X).all(axis=1)].mean(axis=0)
    found = check_scalers({"logistic": [broken]}, inputs.features, fits)
    assert [f.subject for f in found] == ["logistic (fold 1)"]
    lo, hi = fits["logistic"][0]["train"]["rows"]
    # what to do next: the rows it was given, the file of the model, how to confirm
    assert f"rows {lo}..{hi - 1}" in found[0].message and "models/logistic" in found[0].message
    assert "scaler_statistics" in found[0].message


def test_too_good_to_be_true_from_the_metrics():
    honest = {
        "bayes_accuracy": 0.6,
        "benchmarks": ["oracle"],
        "models": {
            "lstm": {
                "macro_f1": 0.55,
                "accuracy": 0.6,
                "direction_accuracy": 0.61,
                "confusion": [[300, 0, 200], [0, 0, 0], [200, 0, 300]],
            }
        },  # noqa: E501
        "columns": {
            "lstm:sign": {"total_return_additive": 0.01, "oracle_return_additive": 0.5},
            "oracle": {"total_return_additive": 0.5, "oracle_return_additive": 0.5},
        },  # noqa: E501
    }
    assert check_too_good(honest) == []
    bad = copy.deepcopy(honest)
    bad["models"]["lstm"].update(macro_f1=0.85, accuracy=0.99, direction_accuracy=0.7)
    bad["columns"]["lstm:sign"]["total_return_additive"] = 0.6
    found = check_too_good(bad)
    assert len(found) == 4 and {f.subject for f in found} == {"lstm", "lstm:sign"}
    assert all("Next:" in f.message for f in found)  # every finding says what to do next
    # 0.7 is (0.7 - 0.6) / sqrt(0.24 / 1000) = 6.5 standard errors above the Bayes accuracy
    assert any(f.figures.get("moves") == 1000 for f in found)
    # a label that is almost always 'stationary': 0.99 accuracy is what the majority class gets, not an alarm
    trivial = {"models": {"majority": {"accuracy": 0.99, "confusion": [[0, 5, 0], [0, 990, 0], [0, 5, 0]]}}}
    assert check_too_good(trivial) == []
    trivial["models"]["majority"]["accuracy"] = 0.998
    assert [f.subject for f in check_too_good(trivial)] == ["majority"]


def test_the_run_summary_says_the_audit_passed(clean):
    import io

    from rich.console import Console

    from signalbench.cli import _print_result

    out = io.StringIO()
    _print_result(clean[0], Console(file=out, width=200))
    assert "audit: clean (causality, features_vs_future, split_hygiene, too_good: passed)" in out.getvalue()


def test_a_label_threshold_fit_on_all_rows_and_a_split_that_is_not_the_configs(clean):
    from signalbench.experiment import parse_experiment
    from signalbench.experiment.audit_run import check_recorded

    _, inputs, _, _ = clean
    exp = parse_experiment(
        {**config(), "labels": {"kind": "smoothed_direction", "horizon": 5, "stationary_quantile": 0.33}}
    )
    folds, _ = make_folds(exp, inputs.n, 1, inputs.groups)
    split = {
        "folds": [
            {"train": f.train.size, "val": f.val.size, "test": f.test.size, "span": [f.start, f.stop]} for f in folds
        ]
    }
    honest = {"split": split, "labels": [labels_for(exp, inputs, folds[0].train)[1]]}
    assert check_recorded(exp, inputs, folds, honest) == []
    on_all = {"split": split, "labels": [labels_for(exp, inputs, np.arange(inputs.n))[1]]}
    found = check_recorded(exp, inputs, folds, on_all)
    assert [f.subject for f in found] == ["labels (fold 1)"]
    other = copy.deepcopy(honest)
    other["split"]["folds"][0]["train"] += 10
    assert [f.subject for f in check_recorded(exp, inputs, folds, other)] == ["split"]


def _rows_with_a_short_first_day(n: int = 240) -> tuple[pd.DataFrame, np.ndarray]:
    """Features whose first 'day' (rows 0..14) has a 10-row warm-up, so its 5 finite rows feed no 15-row window."""
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(1.0, 1.0, size=(n, 3)), columns=["a", "b", "c"])
    X.iloc[0:10] = np.nan  # day 1: warm-up, then rows 10..14 finite
    X.iloc[15:25] = np.nan  # day 2: warm-up again
    y = rng.integers(0, 3, n).astype(float)
    return X, y


def test_the_scaler_is_judged_on_the_rows_the_model_was_given_not_a_rebuilt_span():
    """Issue 16's false alarm: finite rows before the first complete window are not in a window model's scaler."""
    from signalbench import create_model
    from signalbench.data.splits import with_context
    from signalbench.experiment.fits import part_rows

    X, y = _rows_with_a_short_first_day()
    train = np.arange(14, 200)  # labelled from row 14 (a full window of context exists from row 0)
    X_fit, y_fit, lo, _ = with_context(X, y, train, 15)
    lstm = create_model("lstm", seq_len=15, hidden_size=2, num_layers=1, bidirectional=False, pooling="last",
                        head_size=0, epochs=1, max_windows_per_epoch=16, progress=False)  # fmt: skip
    lstm.fit(X_fit, y_fit)
    record = {"train": part_rows(lo, lo + len(X_fit), lo + np.flatnonzero(np.isfinite(y_fit))), "fold": 1}
    assert check_scalers({"lstm": [lstm]}, X, {"lstm": [record]}) == []
    # the old reconstruction (finite rows from the first labelled row's window start) counted rows 10..14 in
    rebuilt = X.iloc[0:200].dropna().to_numpy().mean(axis=0)
    assert not np.allclose(lstm.scaler_mean_, rebuilt, rtol=1e-6)
    assert np.allclose(lstm.scaler_mean_, X.iloc[25:200].to_numpy().mean(axis=0))  # the first window starts at 25


def test_the_library_walk_forward_records_its_fits_for_the_audit():
    from signalbench import create_model
    from signalbench.data.splits import walk_forward_splits
    from signalbench.experiment import walk_forward
    from signalbench.experiment.fits import rows_of
    from signalbench.strategies import sign

    X, y = _rows_with_a_short_first_day(400)
    price = pd.Series(100 + np.cumsum(np.random.default_rng(1).normal(0, 0.1, 400)))
    folds = walk_forward_splits(len(X), horizon=1, seq_len=5, n_folds=2, test_size=60)
    model = lambda: create_model("logistic", max_iter=5)  # noqa: E731
    res = walk_forward(model, X, y, price, folds, sign, horizon=1, periods_per_year=252)
    assert [r["fold"] for r in res.fits] == [1, 2]
    for record, (train, test) in zip(res.fits, folds):
        labelled = rows_of(record["train"]["labelled"])
        assert set(labelled) < set(train) and labelled.max() < rows_of(record["val"]["labelled"]).min()
        assert record["predict"]["scored"] == [int(test[0]), int(test[-1]) + 1]
    assert check_scalers({"logistic": res.models}, X, {"logistic": res.fits}) == []
    broken = copy.deepcopy(res.models)
    broken[1].scaler_mean_ = broken[1].scaler_mean_ + 0.01
    found = check_scalers({"logistic": broken}, X, {"logistic": res.fits})
    assert [f.subject for f in found] == ["logistic (fold 2)"]


def test_a_model_trained_on_rows_of_another_part_is_named_from_fits_json(clean):
    from signalbench.audit import check_fits
    from signalbench.experiment.fits import ranges, rows_of

    res = clean[0]
    fits = copy.deepcopy(res.fits)
    assert check_fits(fits, horizon=1) == []
    record = fits["models"]["logistic"][0]
    test_rows = fits["folds"][0]["test"]
    record["train"]["labelled"] = ranges(np.r_[rows_of(record["train"]["labelled"]), test_rows[0][0]])
    found = check_fits(fits, horizon=1)
    assert [f.subject for f in found] == ["logistic (fold 1)"] and "not train rows" in found[0].message


def test_a_run_folder_without_fits_json_says_its_scalers_were_not_checked(clean, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(clean[0].run_dir, old)
    (old / "fits.json").unlink()  # a folder written before the record existed
    report = audit_run(old, write=False)
    assert report.clean and "scalers not checked: no fits.json" in report.checks["split_hygiene"]
    assert json.loads((clean[0].run_dir / "fits.json").read_text())["folds"][0]["span"] == list(
        clean[0].metrics["split"]["folds"][0]["span"]
    )


def test_a_model_says_which_scaler_its_fit_rows_give():
    from signalbench import create_model

    X, y = _rows_with_a_short_first_day()
    y[100:] = np.nan  # rows after the last label: context only, never in the scaler
    logistic = create_model("logistic", max_iter=5).fit(X, y)
    mean, scale = logistic.scaler_statistics(X, np.flatnonzero(np.isfinite(y)))
    finite = X.iloc[:100].dropna().to_numpy()  # window 1: every finite row up to the last labelled one
    np.testing.assert_allclose(mean, finite.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale, finite.std(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(mean, logistic.scaler_mean_)
    assert create_model("majority").fit(X, y).scaler_statistics(X, np.arange(100)) is None


def test_the_run_level_audit_is_named_where_it_moved():
    import signalbench.audit

    with pytest.raises(AttributeError, match=r"from signalbench\.experiment\.audit_run import audit_run"):
        signalbench.audit.audit_run  # noqa: B018
