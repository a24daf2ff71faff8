"""`validate` (and the start of every run) refuses what a run would refuse, all at once, before anything is fitted.

Each case of issue 16 section 2 that validated and then failed minutes into a run is refused here with its place in
the config. Small synthetic data and the bars sample; nothing is fitted except in the end-to-end runs at the bottom.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from signalbench.experiment import ConfigError, compare, parse_experiment, validate
from signalbench.experiment.inputs import load_inputs

BARS = Path(__file__).resolve().parents[2] / "examples" / "data" / "bars_1min.csv"


def synthetic(**over) -> dict:
    cfg = {
        "name": "v",
        "seed": 1,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 1200, "edge": 0.6, "ticks_per_day": 600},
        "labels": {"kind": "direction", "horizon": 1},
        "baselines": {"exclude": ["logistic"]},
    }
    cfg.update(over)
    return cfg


def bars(path: Path = BARS, **over) -> dict:
    return synthetic(**{"data": {"kind": "bars", "path": str(path)}, "features": "bar_returns", **over})


def problems(cfg: dict, *, run_validate: bool = True) -> dict[str, str]:
    """The problems reported for ``cfg``, by location: when reading it, else by `validate` on its data."""
    with pytest.raises(ConfigError) as info:
        exp = parse_experiment(cfg)
        if run_validate:
            validate(exp)
    return dict(info.value.problems)


LSTM = {"name": "lstm", "seq_len": 5, "hidden_size": 4, "num_layers": 1, "epochs": 1, "batch_size": 256}


# ------------------------------------------------------------------------ the six cases that validated, then failed


def test_ofi_sign_on_bars_is_refused_naming_the_model_and_the_missing_column():
    got = problems(bars(models=[{"name": "ofi_sign"}]))
    assert "order-flow imbalance column" in got["models[0]"]
    assert "bar_returns" in got["models[0]"] and "return_1" in got["models[0]"]  # the columns it was offered


def test_infinite_periods_per_year_is_refused():
    got = problems(synthetic(periods_per_year=float("inf")), run_validate=False)
    assert got["periods_per_year"] == "expected a finite number, got inf"


def test_a_threshold_grid_with_enter_above_one_is_refused_by_the_rule_itself():
    got = problems(synthetic(strategies=[{"rule": "threshold", "enter": [0.6, 1.5]}]), run_validate=False)
    # the message of signalbench.strategies.threshold, at the key that holds the bad value
    assert got["strategies[0].enter"].startswith("expected a finite number in [0.333333, 1), got 1.5")


def test_a_cuda_device_on_a_machine_without_cuda_is_refused(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    got = problems(synthetic(models=[{**LSTM, "device": "cuda"}]))
    assert "got 'cuda'" in got["models[0].device"] and "no CUDA here" in got["models[0].device"]
    got = problems(synthetic(device="cuda", models=[LSTM]))  # the experiment's device, given to every model
    assert "got 'cuda'" in got["device"]


def test_walk_forward_folds_too_small_for_the_test_share_are_refused_with_the_row_counts():
    split = {"kind": "walk_forward", "test": 0.01, "n_folds": 100}
    got = problems(synthetic(split=split, models=[LSTM]))
    msg = got["split.n_folds"]
    # 2 days of 600 rows, horizon 1, window 5: 2 x (600 - 4 - 1) = 1,190 usable rows, 1% = 11 tested, 5 per fold
    assert "got 100 folds of 1 row(s)" in msg and "1,190 usable rows (11 rows)" in msg
    assert msg.startswith("expected at most 2 fold(s)")


def test_a_data_file_with_too_few_rows_to_train_on_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    pd.read_csv(BARS, nrows=60).to_csv(path, index=False)  # bar_returns needs 50 rows of warm-up
    got = problems(bars(path, models=[LSTM]))
    assert (
        "expected at least 2 train row(s) with a complete finite window of 5 rows and a label, got 0"
        in got["models[0]"]
    )
    assert got["baselines (majority)"].startswith("expected at least 2 train row(s)")
    assert "baselines (persistence)" in got


def test_labels_of_one_class_are_refused_before_fitting():
    got = problems(synthetic(labels={"kind": "direction", "horizon": 1, "threshold": 0.5}))  # no 50% move: all 1
    assert got["labels"] == (
        "expected at least two classes among fold 1's labelled training rows, got [1]; "
        "use more data or another stationary band"
    )


# --------------------------------------------------------------------------------------- the schema and the rules


@pytest.mark.parametrize(
    ("section", "key"),
    [("costs", "delay"), ("costs", "fee_bps"), ("split", "n_folds"), ("labels", "horizon"), ("data", "levels")],
)
def test_booleans_are_not_numbers(section, key):
    cfg = synthetic()
    cfg[section] = {**cfg.get(section, {}), key: True}
    got = problems(cfg, run_validate=False)
    assert got[f"{section}.{key}"].endswith("got True")


def test_booleans_are_not_flags_of_another_kind():
    got = problems(synthetic(strategies=[{"rule": "threshold", "enter": [0.5, 0.6], "tune": 1}]), run_validate=False)
    assert "strategies[0].tune" in got


def test_a_grid_of_ten_million_points_is_refused_up_front_with_the_count_and_the_limit():
    grid = {"rule": "hysteresis", "enter": list(np.linspace(0.5, 0.9, 10_000)), "exit": list(np.linspace(0, 0.4, 1000))}
    got = problems(synthetic(strategies=[grid]), run_validate=False)
    assert got["strategies[0]"] == (
        "expected a grid of at most 10,000 points, got 10,000,000 (10000 enter x 1000 exit)"
    )


def test_quoted_costs_need_a_book():
    got = problems(bars(costs={"half_spread_bps": "quoted"}), run_validate=False)
    assert got["costs.half_spread_bps"].startswith("expected a number for bars, got 'quoted'")
    got = problems(bars(strategies=[{"rule": "spread_filter", "max_spread": 1.0}]), run_validate=False)
    assert "needs the quoted spread of an order book" in got["strategies[0].rule"]


def test_did_you_mean_names_one_choice_of_a_literal():
    got = problems(synthetic(split={"kind": "walkforward"}), run_validate=False)
    assert got["split.kind"] == (
        "expected one of 'holdout', 'walk_forward', 'days', 'walk_forward_days', got 'walkforward' "
        "(did you mean 'walk_forward'?)"
    )


def test_rules_that_need_another_signal_and_unknown_parameters():
    entries = [
        {"rule": "rules", "stop_loss": 0.01},  # needs a predicted return
        {"rule": "spread_filter", "of": "thresold", "max_spread": 1.0},
        {"rule": "spread_filter", "enter": 0.6},  # of = "sign" has no enter; max_spread is required
        {"rule": "hysteresis", "enter": 0.6, "exit": [0.5, 0.7]},  # exit must stay below enter
    ]
    got = problems(synthetic(strategies=entries), run_validate=False)
    assert got["strategies[0].rule"].startswith("expected a rule of class probabilities")
    assert "did you mean 'threshold'" in got["strategies[1].of"]
    assert "not a parameter of 'spread_filter'" in got["strategies[2].enter"]
    assert got["strategies[2].max_spread"].startswith("required key is missing")
    assert got["strategies[3].exit"].startswith("expected a number in [0, enter=0.6)")


def test_every_problem_is_reported_at_once():
    cfg = bars(
        models=[{"name": "ofi_sign"}, {**LSTM, "device": "cuda:7"}],
        split={"kind": "walk_forward", "test": 0.01, "n_folds": 100},
    )
    got = problems(cfg)
    assert {"models[0]", "models[1].device", "split.n_folds"} <= set(got)


def test_an_experiment_built_in_python_gets_the_same_checks_at_validate():
    from signalbench.experiment import Experiment

    cfg = bars(costs={"half_spread_bps": "quoted"}, strategies=[{"rule": "threshold", "enter": 1.5}])
    exp = Experiment(**cfg)  # the schema alone: the entries' checks are made by parse_experiment
    with pytest.raises(ConfigError) as info:
        validate(exp)
    assert {"costs.half_spread_bps", "strategies[0].enter"} <= set(dict(info.value.problems))


# ------------------------------------------------------------------------------------------ what models declare


def test_models_declare_the_feature_columns_they_need():
    from signalbench.signals import create

    assert "order-flow imbalance" in create("ofi_sign").required_features(["return_1", "volatility_5"])
    assert create("ofi_sign").required_features(["mid_ret_1", "ofi_l1_sum_10"]) is None
    assert create("persistence").required_features(["ofi_l1_sum_10", "mid_ret_1"]) is None
    assert create("persistence", column="return_5").required_features(["return_1"]).startswith("column: expected")
    assert create("deeplob").required_features(["return_1"]).startswith("X: expected the raw order book")
    assert create("lstm").required_features(["anything"]) is None


def test_a_default_baseline_without_its_column_is_skipped_with_a_warning_and_a_listed_one_refused():
    from signalbench.experiment import ExperimentWarning

    cfg = bars(features="close_indicators")  # close, volume, sma_20, ema_20, rsi_14: no one-row return
    with pytest.warns(ExperimentWarning, match="persistence baseline skipped: expected a one-row return column"):
        validate(parse_experiment(cfg))
    got = problems({**cfg, "models": [{"name": "persistence"}]})
    assert got["models[0]"].startswith("expected a one-row return column named mid_ret_1 or return_1")


# ------------------------------------------------------------------------------- a config that validates, runs


def test_every_probability_rule_runs_end_to_end_after_validating():
    from signalbench.experiment import ExperimentWarning

    cfg = synthetic(
        costs={"fee_bps": 0.1, "half_spread_bps": "quoted"},
        strategies=[
            {"rule": "sign"},
            {"rule": "threshold", "enter": [0.4, 0.5]},
            {"rule": "hysteresis", "enter": 0.45, "exit": 0.35},
            {"rule": "size_by_confidence", "scale": 2.0},
            {"rule": "spread_filter", "of": "threshold", "enter": 0.4, "max_spread": [0.5, 5.0], "when_wide": "flat"},
            {"rule": "spread_filter", "max_spread": [0.5, 5.0], "tune": True},
        ],
    )
    exp = parse_experiment(cfg)
    validate(exp)
    with pytest.warns(ExperimentWarning, match="never traded"):  # the majority baseline never passes enter = 0.45
        res = compare(exp, write=False, report=False)
    pos = res.positions
    col = "majority:spread_filter[threshold](enter=0.4,max_spread=5,when_wide=flat)"
    assert (
        col in pos
        and "majority:spread_filter[sign](tuned)" in pos
        and "persistence:hysteresis(enter=0.45,exit=0.35)" in pos
    )
    # the spread filter's column: threshold's positions, flat wherever the quoted half spread is 5 bps or more
    inputs = load_inputs(exp)
    start = inputs.price.index.get_loc(pos.index[0])
    spread = inputs.half_spread_bps[start : start + len(pos)]
    unfiltered = pos["majority:threshold(enter=0.4)"].to_numpy()
    assert np.array_equal(pos[col].to_numpy(), np.where(spread < 5.0, unfiltered, 0.0))
    tight = pos[col.replace("max_spread=5", "max_spread=0.5")].to_numpy()
    assert np.array_equal(tight, np.where(spread < 0.5, unfiltered, 0.0)) and np.abs(unfiltered - tight).sum() > 0


@pytest.mark.slow
def test_the_rules_kernel_runs_on_a_regressor_end_to_end():
    cfg = synthetic(
        labels={"kind": "forward_return", "horizon": 1},
        models=[{**LSTM, "name": "lstm_regressor"}],
        strategies=[
            {"rule": "sign"},
            {"rule": "rules", "threshold": 0.0, "stop_loss": 0.0005, "take_profit": 0.001, "max_hold": [3, 10]},
            {"rule": "rules", "max_hold": [1, 5], "exit_on_opposite": False, "tune": True},
        ],
    )
    exp = parse_experiment(cfg)
    validate(exp)
    res = compare(exp, write=False, report=False)
    pos = res.positions
    short = pos["lstm_regressor:rules(threshold=0,stop_loss=0.0005,take_profit=0.001,max_hold=3)"].to_numpy()
    assert set(np.unique(short)) <= {-1.0, 0.0, 1.0} and np.abs(short).sum() > 0
    # a trade is exposed for at most max_hold = 3 bars, and no trade is re-entered on its exit bar
    longest = run = 0
    for t in range(len(short)):
        run = run + 1 if short[t] != 0 and t and short[t] == short[t - 1] else int(short[t] != 0)
        longest = max(longest, run)
    assert longest == 3
    tuned = res.metrics["columns"]["lstm_regressor:rules(tuned)"]  # chosen on each fold's validation rows
    assert len(tuned["chosen"]) == 1 and tuned["chosen"][0] in ({"max_hold": 1}, {"max_hold": 5}, "flat")


def test_book_costs_need_a_book():
    got = problems(bars(costs={"model": "book", "size": 10}), run_validate=False)
    assert got["costs.model"].startswith('expected "linear" for bars')
