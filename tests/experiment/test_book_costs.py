"""``[costs] model = "book"``: the experiment executes on the LOBSTER book and writes a capacity curve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from signalbench.experiment import ConfigError, compare, parse_experiment


def config(costs: dict, data_dir=None) -> dict:
    path = str(data_dir / "lobster" / "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip") if data_dir else "x.zip"
    return {
        "name": "book",
        "seed": 0,
        "device": "cpu",
        "data": {"kind": "lobster", "path": path, "levels": 5},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "holdout", "train": 0.6, "val": 0.2, "test": 0.2},
        "costs": costs,
        "models": [{"name": "ofi_sign"}],
        "strategies": [{"rule": "sign"}],
    }


@pytest.mark.parametrize(
    ("costs", "words"),
    [
        ({"size": 10}, 'only with model = "book"'),
        ({"model": "book"}, "needs exactly one of size .* and notional"),
        ({"model": "book", "size": 10, "notional": 5000.0}, "got both"),
        ({"notional": 5000.0}, 'notional: only with model = "book"'),
        ({"model": "book", "notional": -1.0}, r"costs.notional: expected a number > 0.0 or a table, got -1.0"),
        ({"model": "book", "size": 10, "latency": "1ms", "delay": 1}, "not both"),
        ({"model": "book", "size": 10, "latency": "soon"}, "latency: expected a duration"),
        ({"model": "book", "size": 10, "unfilled": "wait"}, "partial"),
        ({"model": "book", "size": 10, "capacity_sizes": [1, 1]}, "distinct"),
        ({"model": "book", "size": {"ofi_sign": 20}}, "size: expected a table with a default"),
        ({"model": "book", "size": {"default": 10, "ofi_sgn": 20}}, r"costs.size: .*got 'ofi_sgn' \(did you mean"),
        ({"model": "book", "notional": {"default": 5e4, "ofi_sign:sgn": 1e4}}, r"costs.notional: .*'ofi_sign:sgn'"),
        ({"model": "book", "size": {"default": 10, "oracle": 0}}, r"costs.size.oracle: expected a number >= 1"),
    ],
)
def test_book_settings_are_checked(costs, words):
    with pytest.raises(ConfigError, match=words):
        parse_experiment(config(costs))


def test_a_book_run_writes_its_costs_and_capacity(shared_data, tmp_path):
    costs = {"model": "book", "size": 100, "latency": "1ms", "fee_bps": 0.2, "capacity_sizes": [1, 100, 1000]}
    res = compare(config(costs, shared_data), out=tmp_path / "run")
    metrics = json.loads((res.run_dir / "metrics.json").read_text())
    col = "ofi_sign:sign"
    row = metrics["columns"][col]
    assert row["rows_short_of_depth"] >= 0
    assert row["cost_spread"] + row["cost_depth"] + row["cost_fees"] == pytest.approx(row["cost_paid"], rel=1e-9)
    assert all(r["signal_efficiency"] is None or r["signal_efficiency"] <= 1 for r in metrics["columns"].values())
    cap = metrics["capacity"]
    assert cap["sizes"] == [1, 100, 1000]
    # the curve's point at the run's own size is the run's backtest
    assert cap["net_return"][col][1] == pytest.approx(row["total_return_additive"], rel=1e-12)
    net = np.array(cap["net_return"][col])
    assert net[0] > net[2]  # larger orders cross deeper into the book
    assert res.backtest.params["cost_model"] == "book"
    html = (res.run_dir / "report.html").read_text()
    assert "Capacity on the order book" in html
    assert "cost_depth" in html and "rows_short_of_depth" in html


def test_a_notional_is_converted_to_shares_at_the_first_tested_mid(shared_data, tmp_path):
    costs = {"model": "book", "notional": 50_000.0}
    res = compare(config(costs, shared_data), out=tmp_path / "run", report=False)
    first_mid = pd.read_parquet(res.run_dir / "returns.parquet")["price"].iloc[0]  # the book's mid at that row
    assert res.backtest.params["notional"] == 50_000.0
    assert res.backtest.params["size"] == [round(50_000.0 / first_mid)]
    assert json.loads((res.run_dir / "config.json").read_text())["costs"]["notional"] == 50_000.0


def synthetic(costs: dict) -> dict:
    """A small synthetic run with a 3-level book: the logistic baseline's sign and the three benchmarks."""
    return {
        "name": "book-sizes",
        "seed": 0,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 2000, "levels": 3, "seed": 1},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "holdout", "train": 0.6, "val": 0.2, "test": 0.2},
        "costs": {"model": "book", "fee_bps": 0.2, **costs},
        "baselines": {"exclude": ["majority", "persistence"]},
        "strategies": [{"rule": "sign"}, {"rule": "threshold", "enter": [0.5, 0.6]}],
    }


def test_a_column_takes_its_own_size_then_its_models_then_the_default():
    table = {"default": 3, "logistic": 40, "logistic:threshold(enter=0.6)": 7, "oracle": 25}
    costs = parse_experiment(synthetic({"size": table})).costs
    cols = ["logistic:sign", "logistic:threshold(enter=0.6)", "oracle", "naive_oracle"]
    assert costs.per_column("size", cols) == [40, 7, 25, 3]
    assert parse_experiment(synthetic({"size": 9})).costs.per_column("size", cols) == 9


def test_a_per_column_size_run_prices_each_column_as_book_backtest_at_its_size():
    from signalbench.engine import book_backtest
    from signalbench.experiment.inputs import load_inputs

    sizes = {"logistic:sign": 40, "logistic:threshold(enter=0.5)": 3, "logistic:threshold(enter=0.6)": 3}
    sizes.update({"oracle": 25, "naive_oracle": 3, "buy_and_hold": 3})
    exp = parse_experiment(synthetic({"size": {"default": 3, "logistic:sign": 40, "oracle": 25}}))
    res = compare(exp, out=None, report=False)
    assert res.backtest.params["size"] == [sizes[c] for c in res.positions.columns]
    inputs = load_inputs(exp)
    index = res.positions.index
    rows = ["total_return_additive", "oracle_return_additive", "cost_paid", "rows_short_of_depth", "turnover"]
    for col, size in sizes.items():
        alone = book_backtest(
            inputs.price.loc[index],
            res.positions[[col]],
            inputs.frame.loc[index],
            size=size,
            fee_bps=0.2,
            close_at_end=True,
            mode="additive",
            periods_per_year=252,
        )
        got = res.backtest.stats.loc[rows, col].to_numpy(dtype=float)
        assert got == pytest.approx(alone.stats.loc[rows, col].to_numpy(dtype=float), rel=1e-12, abs=1e-15), col
