"""grid: Cartesian product of parameters -> one positions frame with a named column MultiIndex."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from signalbench.engine.selection import deflated_sharpe_row
from signalbench.strategies import grid, hysteresis, rules, size_by_confidence, threshold


@pytest.fixture(scope="module")
def market():
    rng = np.random.default_rng(42)
    n = 400
    price = 100 * np.cumprod(1 + rng.normal(0, 0.001, n))
    nxt = np.append(np.sign(np.diff(price)), 0.0)
    p_up = np.clip(0.5 + 0.08 * nxt + rng.normal(0, 0.08, n), 0.01, 0.99)  # an informative but noisy model
    proba = np.column_stack([1 - p_up, p_up])
    proba[:20] = np.nan  # warm-up
    index = pd.date_range("2024-01-02 09:30", periods=n, freq="min")
    return price, proba, index


def test_shape_names_order_and_each_column_equals_the_rule(market):
    _, proba, _ = market
    enters = [0.55, 0.6, 0.7]
    exits = (0.3, 0.5)
    out = grid(hysteresis, proba, enter=enters, exit=exits)
    assert out.shape == (len(proba), 6)
    assert isinstance(out.columns, pd.MultiIndex)
    assert list(out.columns.names) == ["enter", "exit"]
    assert list(out.columns) == list(itertools.product(enters, exits))  # last parameter varies fastest
    assert isinstance(out.index, pd.RangeIndex)
    for enter, exit_ in out.columns:
        assert_array_equal(out[(enter, exit_)].to_numpy(), hysteresis(proba, enter=enter, exit=exit_))


def test_single_parameter_and_pandas_index(market):
    _, proba, index = market
    frame = pd.DataFrame(proba, index=index, columns=["down", "up"])
    out = grid(threshold, frame, enter=(0.5, 0.65))
    assert out.index.equals(index)
    assert out.columns.nlevels == 1 and out.columns.names == ["enter"]
    assert_array_equal(out[(0.65,)].to_numpy(), threshold(frame, enter=0.65).to_numpy())


def test_keyword_only_parameters_and_fixed_inputs_through_partial(market):
    price, proba, _ = market
    pred = proba[:, 1] - proba[:, 0]
    rule = functools.partial(rules, pred, price, threshold=0.05)
    out = grid(rule, stop_loss=[0.001, 0.003], take_profit=[0.002, 0.005], max_hold=[5, 50])
    assert out.shape == (len(price), 8)
    assert list(out.columns.names) == ["stop_loss", "take_profit", "max_hold"]
    for sl, tp, hold in out.columns:
        want = rules(pred, price, threshold=0.05, stop_loss=sl, take_profit=tp, max_hold=hold)
        assert_array_equal(out[(sl, tp, hold)].to_numpy(), want)
    assert out.nunique(axis=1).max() > 1  # the parameters matter


def test_a_rule_returning_several_columns_adds_its_column_levels(market):
    price, proba, index = market
    pred = pd.DataFrame(
        {"lstm": proba[:, 1] - proba[:, 0], "tcn": proba[:, 0] - proba[:, 1]},
        index=index,
    )
    pred.columns.name = "model"
    out = grid(functools.partial(rules, pred, pd.Series(price, index=index)), threshold=[0.0, 0.1])
    assert list(out.columns.names) == ["threshold", "model"]
    assert list(out.columns) == [(0.0, "lstm"), (0.0, "tcn"), (0.1, "lstm"), (0.1, "tcn")]
    assert out.index.equals(index)
    direct = rules(pred, price, threshold=0.1)
    assert_array_equal(out[(0.1, "tcn")].to_numpy(), direct["tcn"].to_numpy())


def test_numpy_two_dimensional_output_gets_positional_column_level():
    def two_columns(scale):
        return np.column_stack([np.full(3, scale), np.full(3, -scale)])

    out = grid(two_columns, scale=[0.5, 1.0])
    assert list(out.columns) == [(0.5, 0), (0.5, 1), (1.0, 0), (1.0, 1)]
    assert out.columns.names == ["scale", None]


def test_grid_prices_every_combination_in_one_backtest(market):
    from signalbench import engine

    price, proba, index = market
    frame = pd.DataFrame(proba, index=index, columns=["down", "up"])
    positions = grid(size_by_confidence, frame, scale=[1.0, 4.0], min_edge=[0.0, 0.1])
    result = engine.backtest(pd.Series(price, index=index), positions, fee_bps=1.0, periods_per_year=252 * 390)
    assert list(result.stats.columns) == list(positions.columns)
    assert result.returns.shape == positions.shape
    for column in positions.columns:
        single = engine.backtest(price, positions[column].to_numpy(), fee_bps=1.0, periods_per_year=252 * 390)
        rows = single.stats.index.intersection(result.stats.index).drop("deflated_sharpe", errors="ignore")
        np.testing.assert_allclose(result.stats.loc[rows, column], single.stats.iloc[:, 0][rows], rtol=1e-12)
        np.testing.assert_allclose(result.returns[column].to_numpy(), single.returns, rtol=1e-12, atol=1e-15)
    dsr = deflated_sharpe_row(result.returns)
    assert dsr.shape == (4,) and ((dsr >= 0) & (dsr <= 1)).all()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: grid(threshold, p), ValueError, "grid: expected at least one swept parameter"),
        (lambda p: grid(threshold, p, enter=0.6), TypeError, r"enter: expected a list, tuple or range .* got 0\.6"),
        (lambda p: grid(threshold, p, enter=np.array([0.6, 0.7])), TypeError, "functools.partial"),
        (lambda p: grid(threshold, p, enter=[]), ValueError, "enter: expected at least one value"),
        (lambda p: grid(threshold, p, enter=[0.6, 0.6]), ValueError, "enter: expected distinct values"),
        (lambda p: grid(threshold, p, enter=[[0.6]]), TypeError, "enter: expected hashable values"),
        (lambda p: grid("threshold", p, enter=[0.6]), TypeError, "rule: expected a callable"),
        (lambda p: grid(threshold, p, enter=[0.4]), ValueError, r"enter: expected a finite number in \[0\.5, 1\)"),
        (lambda p: grid(lambda n: np.zeros(n), n=[2, 3]), ValueError, r"rule: expected output of shape \(2, 1\)"),
        (lambda p: grid(lambda n: ["a"] * n, n=[2]), TypeError, "the rule's output for {'n': 2}: expected numbers"),
    ],
)
def test_grid_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(np.array([[0.3, 0.7], [0.6, 0.4]]))


def test_rules_with_different_output_indexes_are_rejected():
    def shifting(start):
        return pd.Series([1.0, 0.0], index=pd.RangeIndex(start, start + 2))

    with pytest.raises(ValueError, match="rule: expected the same output index for every combination"):
        grid(shifting, start=[0, 1])
