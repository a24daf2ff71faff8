"""The run-level audit end to end (issue 23): each leak planted into a real ``compare()`` run is named in audit.json.

Planted one at a time into the same small synthetic experiment: a model that reads the next row, a feature built from
the next price, a scaler fit on all rows, a stationary threshold fit on all rows. The same run without a plant has
no finding. Also: a finding is printed once by ``signalbench run`` (not again as a raw Python warning), and
``AuditWarning`` still reaches code that asks for it.
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest

from signalbench.audit import AuditWarning
from signalbench.cli import main
from signalbench.data.features import sets
from signalbench.experiment import compare, preflight, runtasks
from signalbench.experiment.audit_run import audit_run
from signalbench.signals import registry
from signalbench.signals.baselines import LogisticModel


def config(**labels) -> dict:
    return {
        "name": "plant",
        "seed": 1,
        "device": "cpu",
        "features": "lob_basic",
        "data": {"kind": "synthetic", "n": 3000, "edge": 0.2, "ticks_per_day": 1500},
        "labels": {"kind": "smoothed_direction", "horizon": 2, "stationary_quantile": 0.33, **labels},
        "costs": {"fee_bps": 0.05, "half_spread_bps": 0.1},
        "models": [{"name": "logistic", "max_iter": 20}],
        "strategies": [{"rule": "sign"}],
    }


class PeekModel(LogisticModel):
    """The logistic baseline, predicting row t from the features of row t + 1."""

    name = "peek"

    def predict_proba(self, X):
        return super().predict_proba(X.shift(-1).ffill())


def _peek_feature(df, groups):
    out = sets._lob_basic(df, groups)
    price = sets.price_series(df)
    out["next_move"] = np.r_[np.log(price[1:] / price[:-1]), np.nan]  # the move from t to t + 1
    return out


def plant_model(monkeypatch, cfg):
    monkeypatch.setitem(registry.BUILTINS, "peek", f"{__name__}:PeekModel")
    cfg["models"].append({"name": "peek", "max_iter": 20})


def plant_feature(monkeypatch, cfg):
    monkeypatch.setitem(
        sets._FEATURE_SETS, "lob_peek", sets.FeatureSet("lob_peek", "lob_basic + next move", _peek_feature)
    )
    cfg["features"] = "lob_peek"


def plant_scaler(monkeypatch, cfg):
    honest = runtasks.fit_task  # a single run's fit task, called by name in this process (workers = 1)

    def fit_then_scale_on_all_rows(**task):
        out = honest(**task)
        model = out["model"]
        if getattr(model, "scaler_mean_", None) is None:
            return out
        X = task["inputs"]["features"].to_numpy()
        X = X[np.isfinite(X).all(axis=1)]
        model.scaler_mean_, model.scaler_scale_ = X.mean(axis=0), X.std(axis=0)
        return out

    monkeypatch.setattr(runtasks, "fit_task", fit_then_scale_on_all_rows)


def plant_threshold(monkeypatch, cfg):
    honest = preflight.labels_for  # the run's labels are made before any fit (experiment/preflight.py)
    monkeypatch.setattr(preflight, "labels_for", lambda exp, inputs, rows: honest(exp, inputs, np.arange(inputs.n)))


PLANTS = {
    "model": (plant_model, {("causality", "peek")}),
    "feature": (plant_feature, {("causality", "next_move"), ("features_vs_future", "next_move")}),
    "scaler": (plant_scaler, {("split_hygiene", "logistic")}),
    "threshold": (plant_threshold, {("split_hygiene", "labels (fold 1)")}),
}


def _named(subject: str) -> str:
    """A finding's subject without its fold ("logistic (fold 1)" -> "logistic"); label findings keep theirs."""
    return subject if subject.startswith("labels") else subject.split(" (fold")[0]


def _run(cfg, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare(cfg, out=out, report=False)


def test_the_run_without_a_plant_has_no_finding(tmp_path):
    res = _run(config(), tmp_path / "clean")
    saved = json.loads((res.run_dir / "audit.json").read_text())
    assert saved["clean"] and saved["findings"] == [], saved["findings"]
    fits = json.loads((res.run_dir / "fits.json").read_text())
    assert set(fits["models"]) == {"logistic", "majority", "persistence"} and len(fits["folds"]) == 1


@pytest.mark.parametrize("plant", list(PLANTS))
def test_a_planted_leak_is_named_in_audit_json(plant, tmp_path, monkeypatch):
    cfg = config()
    make, expected = PLANTS[plant]
    make(monkeypatch, cfg)
    res = _run(cfg, tmp_path / plant)
    saved = json.loads((res.run_dir / "audit.json").read_text())
    found = {(f["check"], _named(f["subject"])) for f in saved["findings"]}
    assert expected <= found, saved["findings"]
    assert all("Next:" in f["message"] for f in saved["findings"])  # each says what to do next
    assert not saved["clean"]
    if plant in ("scaler", "threshold"):  # nothing else is wrong with these runs
        assert found == expected, saved["findings"]
    if plant == "scaler":  # the same verdict from the folder alone: fits.json is read back
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AuditWarning)
            again = audit_run(res.run_dir, write=False)
        assert [f.subject for f in again.findings] == ["logistic (fold 1)"]
        message = again.findings[0].message
        assert "fits.json" in message and "models/logistic" in message and "to confirm" in message


def _terminal_showwarning(message, category, filename, lineno, file=None, line=None):
    """Python's own display of a warning on standard error (pytest replaces it while it records warnings)."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def test_a_finding_prints_once_in_the_terminal_and_stays_catchable(tmp_path, capsys):
    toml = tmp_path / "leaky.toml"
    toml.write_text(
        'name = "leaky"\nseed = 3\ndevice = "cpu"\nfeatures = ["lob_basic", "price_volume"]\n'
        '[data]\nkind = "synthetic"\nn = 4000\nedge = 0.2\nticks_per_day = 2000\nleaky = true\n'
        '[labels]\nkind = "direction"\nhorizon = 1\n'
        "[costs]\nfee_bps = 0.05\nhalf_spread_bps = 0.1\n"
        '[[strategies]]\nrule = "sign"\n'
    )
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        warnings.showwarning = _terminal_showwarning
        assert main(["run", str(toml), "--out", str(tmp_path / "run"), "--quiet", "--no-report"]) == 0
    printed = capsys.readouterr()
    terminal = printed.out + printed.err
    saved = json.loads((tmp_path / "run" / "audit.json").read_text())
    assert saved["findings"], "the leaky generator must give a finding"
    for f in saved["findings"]:
        assert terminal.count(f["message"]) == 1, terminal
    assert "AuditWarning" not in terminal
    with warnings.catch_warnings(record=True) as caught:  # code that asks for the warnings still gets them
        warnings.simplefilter("always")
        compare(toml, out=tmp_path / "again", report=False)
    audit = [str(w.message) for w in caught if issubclass(w.category, AuditWarning)]
    assert len(audit) == len(saved["findings"]) and all(f["message"] in m for f, m in zip(saved["findings"], audit))
