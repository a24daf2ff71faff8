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
    audit_run,
    check_causality,
    check_features,
    check_scalers,
    check_split,
    check_too_good,
)
from signalbench.cli import main
from signalbench.data import compute_features
from signalbench.experiment import compare
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
        self.window = 1

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.inner.predict_proba(X.shift(-1).ffill())


def test_a_model_that_reads_one_row_ahead(clean):
    res, inputs, folds, _ = clean
    from signalbench.audit import _predictor

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
    assert len(found) == 1 and "purge" in found[0].message
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
    from signalbench.audit import check_recorded
    from signalbench.experiment import parse_experiment

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
