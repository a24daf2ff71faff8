"""Running experiments end to end on small synthetic data: the run folder, honesty of the comparison, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from signalbench.engine import backtest, oracle_positions
from signalbench.experiment import compare, parse_experiment
from signalbench.experiment.runfolder import LAYOUT


def tiny(**over) -> dict:
    cfg = {
        "name": "tiny",
        "seed": 1,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 3000, "edge": 0.6, "ticks_per_day": 1500},
        "labels": {"kind": "direction", "horizon": 1},
        "costs": {"fee_bps": 0.1, "half_spread_bps": "quoted", "delay": 1},
        "models": [
            {
                "name": "lstm",
                "seq_len": 5,
                "hidden_size": 4,
                "num_layers": 1,
                "bidirectional": False,
                "pooling": "last",
                "head_size": 0,
                "epochs": 2,
                "batch_size": 256,
            }
        ],
        "strategies": [{"rule": "sign"}, {"rule": "threshold", "enter": [0.4, 0.5], "tune": True}],
    }
    cfg.update(over)
    return cfg


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r1"
    return compare(tiny(), out=out)


def test_run_folder_layout(run):
    assert run.run_dir is not None
    for name in LAYOUT:
        assert (run.run_dir / name).exists(), name
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    assert set(metrics["benchmarks"]) == {"oracle", "naive_oracle", "buy_and_hold"}
    table = pd.read_csv(run.run_dir / "metrics.csv", index_col=0)
    assert list(table.columns) == list(run.table.columns)
    import signalbench as sb

    model = sb.load_model(run.run_dir / "models" / "lstm")
    assert model.get_params()["seq_len"] == 5


def test_every_model_and_strategy_is_a_column(run):
    cols = list(run.backtest.stats.columns)
    for model in ("lstm", "majority", "persistence", "logistic"):
        assert f"{model}:sign" in cols
        assert f"{model}:threshold(tuned)" in cols
    assert cols[-3:] == ["oracle", "naive_oracle", "buy_and_hold"]


def test_benchmarks_are_not_trials_of_the_deflated_sharpe(run):
    dsr = run.backtest.stats.loc["deflated_sharpe"]
    assert dsr[["oracle", "naive_oracle", "buy_and_hold"]].isna().all()
    assert dsr.drop(["oracle", "naive_oracle", "buy_and_hold"]).notna().any()


def test_oracle_is_priced_on_the_tested_rows_only(run):
    """The cost-aware oracle of the tested span, not the full-series oracle cut to it (the old README pattern)."""
    exp = run.experiment
    from signalbench.experiment.inputs import load_inputs

    inputs = load_inputs(exp)
    start = run.metrics["split"]["folds"][0]["span"][0]
    price = inputs.price.iloc[start:]
    costs = {"fee_bps": 0.1, "half_spread_bps": inputs.half_spread_bps[start:], "delay": 1, "close_at_end": True}
    honest = backtest(price, oracle_positions(price, **costs), **costs)
    full_costs = {**costs, "half_spread_bps": inputs.half_spread_bps}
    old = oracle_positions(inputs.price, **full_costs)[start:]
    leaky = backtest(price, old, **costs)
    got = run.metrics["columns"]["oracle"]["total_return_additive"]
    assert got == pytest.approx(float(honest.stats.loc["total_return_additive"].iloc[0]))
    assert run.metrics["columns"]["lstm:sign"]["oracle_return_additive"] == pytest.approx(got)
    old_total = float(leaky.stats.loc["total_return_additive"].iloc[0])
    assert old_total != pytest.approx(got)  # the two patterns differ on this data


def test_tested_span_starts_after_the_purge(run):
    fold = run.metrics["split"]["folds"][0]
    assert run.backtest.returns.shape[0] == run.metrics["tested"]["rows"]
    assert fold["span"][0] > 0


def test_classification_metrics_with_majority_beside(run):
    models = run.metrics["models"]
    for name in ("lstm", "majority", "logistic"):
        assert 0 <= models[name]["macro_f1"] <= 1
        assert np.array(models[name]["confusion"]).sum() == run.metrics["tested"]["labelled_rows"]


def test_same_seed_same_metrics(run, tmp_path):
    again = compare(tiny(), out=tmp_path / "r2")
    assert (run.run_dir / "metrics.json").read_bytes() == (again.run_dir / "metrics.json").read_bytes()


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failed_run_leaves_nothing_that_looks_finished(tmp_path, monkeypatch, exc):
    """A run that fails writing its results keeps config.json and the task store, and no result file; it resumes."""
    from signalbench.experiment import results

    calls = {"n": 0}
    real = results.write_json

    def failing(path, value):
        calls["n"] += 1
        if path.name == "metrics.json":
            raise exc
        real(path, value)

    cfg = tiny(models=[], strategies=[{"rule": "sign"}])
    monkeypatch.setattr(results, "write_json", failing)
    out = tmp_path / "run"
    with pytest.raises(type(exc)):
        compare(cfg, out=out)
    assert calls["n"] >= 1
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "environment.json", "tasks"]  # nothing else
    monkeypatch.setattr(results, "write_json", real)
    resumed = compare(cfg, out=out, resume=True, report=False)
    compare(cfg, out=tmp_path / "whole", report=False)
    assert (out / "metrics.json").read_bytes() == (tmp_path / "whole" / "metrics.json").read_bytes()
    assert resumed.run_dir == out and not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_never_trading_column_is_named(tmp_path):
    cfg = tiny(models=[], strategies=[{"rule": "threshold", "enter": 0.99}], costs={"fee_bps": 0.0})
    with pytest.warns(UserWarning, match="never traded"):
        res = compare(cfg, write=False)
    assert any("never traded" in n for n in res.notes)


def test_parse_and_override_seed():
    exp = parse_experiment(tiny())
    assert exp.seed == 1 and exp.model_specs()[0].params["seq_len"] == 5


def test_forward_return_labels_with_a_regressor(tmp_path):
    """Regressors learn the forward return; they are traded by its sign, and their forecast quality is reported."""
    cfg = tiny(
        labels={"kind": "forward_return", "horizon": 1},
        models=[{"name": "lstm_regressor", "seq_len": 5, "hidden_size": 4, "num_layers": 1, "epochs": 2}],
        strategies=[{"rule": "sign"}],
    )
    res = compare(cfg, write=False)
    assert list(res.metrics["models"]) == ["lstm_regressor"]  # no classifier baselines
    m = res.metrics["models"]["lstm_regressor"]
    assert m["n_rows"] > 0 and np.isfinite(m["rmse"]) and 0 <= m["direction_accuracy"] <= 1
    pos = res.backtest.exposure["lstm_regressor:sign"]
    assert set(np.unique(pos)) <= {-1.0, 0.0, 1.0}


def test_task_and_label_kind_must_agree():
    from signalbench.experiment import ConfigError

    with pytest.raises(ConfigError, match=r"models\[0\].name: expected a classification model"):
        parse_experiment(tiny(models=[{"name": "lstm_regressor"}]))
    cfg = tiny(labels={"kind": "forward_return", "horizon": 1}, models=[{"name": "lstm_regressor"}])
    with pytest.raises(ConfigError, match=r"strategies\[1\].rule: expected a rule of a predicted return \('sign', "):
        parse_experiment(cfg)


def test_positions_file_holds_the_targets_given_to_the_backtest(run):
    saved = pd.read_parquet(run.run_dir / "positions.parquet")
    for col in run.backtest.stats.columns:
        np.testing.assert_array_equal(saved[str(col)].to_numpy(), run.positions[col].to_numpy())
    delay = run.experiment.costs.delay
    exposure = run.backtest.exposure["lstm:sign"].to_numpy()
    np.testing.assert_array_equal(exposure[delay:-1], saved["lstm:sign"].to_numpy()[: len(exposure) - delay - 1])
