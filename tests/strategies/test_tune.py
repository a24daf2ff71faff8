"""tune: parameters chosen by net return after costs on validation rows only, with "flat" always a candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from signalbench.strategies import TuneResult, hysteresis, rules, sign, threshold, tune

NAN = np.nan


def col2(p_up):
    return np.column_stack([1 - p_up, p_up])


def reference_net_return(price, position, cost_bps, delay=0, close_at_end=True):
    """The documented objective, written out: sum of e[t-1] * (p[t]/p[t-1] - 1) - |e[t] - e[t-1]| * k[t]."""
    n = len(price)
    e = np.zeros(n)
    e[delay:] = position[: n - delay]
    if close_at_end:
        e[-1] = 0.0
    gross = np.r_[0.0, e[:-1] * (price[1:] / price[:-1] - 1.0)]
    cost = np.abs(np.diff(e, prepend=0.0)) * np.broadcast_to(cost_bps, n) / 1e4
    return float(np.sum(gross - cost))


def market(seed, n=2000, edge=0.0, vol=1e-4):
    """Prices with i.i.d. moves and probabilities whose P(up) leans towards the next move by ``edge``."""
    rng = np.random.default_rng(seed)
    moves = rng.choice([-1.0, 1.0], size=n) * vol
    price = 100.0 * np.cumprod(1.0 + np.r_[0.0, moves[:-1]])
    nxt = np.r_[np.sign(np.diff(price)), 0.0]
    p_up = np.clip(0.5 + edge * nxt + rng.uniform(-0.2, 0.2, n), 0.01, 0.99)
    return price, col2(p_up)


ENTER = [0.5, 0.55, 0.6, 0.65, 0.7]


# ---------------------------------------------------------------- the honest answers


@given(seed=st.integers(0, 2**32 - 1))
def test_a_model_without_edge_after_costs_ends_up_flat(seed):
    price, proba = market(seed, edge=0.0)
    result = tune(threshold, proba, price, {"enter": ENTER}, half_spread_bps=1.0)
    assert result.flat and result.params is None
    assert result.table.loc["flat", "chosen"] and result.table["chosen"].sum() == 1
    assert (result.table.drop(index="flat")["net_return"] <= 0).all()
    assert_array_equal(result.apply(proba), np.zeros(len(proba)))  # not trading the spread 5,000 times


@given(seed=st.integers(0, 2**32 - 1))
def test_a_planted_edge_is_picked_up_and_earns_out_of_sample(seed):
    price, proba = market(seed, n=3000, edge=0.25)
    val, test = slice(0, 1500), slice(1500, 3000)
    result = tune(threshold, proba, price, {"enter": ENTER}, fee_bps=0.5, validation=val)
    assert not result.flat
    best = result.table.drop(index="flat")["net_return"].idxmax()
    assert result.table.loc[best, "chosen"] and result.params == {"enter": result.table.loc[best, "enter"]}
    positions = result.apply(proba[test])
    assert reference_net_return(price[test], positions, 0.5) > 0


def test_a_large_cost_turns_a_real_edge_into_flat():
    price, proba = market(3, edge=0.25)
    assert not tune(threshold, proba, price, {"enter": ENTER}, half_spread_bps=0.1).flat
    assert tune(threshold, proba, price, {"enter": ENTER}, half_spread_bps=5.0).flat


# ---------------------------------------------------------------- the numbers


@st.composite
def cases(draw):
    n = draw(st.integers(3, 60))
    steps = np.array(draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n)), dtype=float)
    price = 100.0 * np.cumprod(1.0 + steps / 1e4)
    w = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float) / 10
    proba = col2(w)
    proba[draw(st.lists(st.integers(0, n - 1), max_size=3))] = NAN
    costs = {
        "fee_bps": draw(st.one_of(st.sampled_from([0.0, 0.5, 2.0]), st.floats(0.0, 10.0))),
        "half_spread_bps": draw(st.one_of(st.sampled_from([0.0, 1.0, "per_row"]), st.floats(0.0, 5.0))),
        "delay": draw(st.integers(0, 2)),
        "close_at_end": draw(st.booleans()),
    }
    if costs["half_spread_bps"] == "per_row":
        costs["half_spread_bps"] = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=float)
    return price, proba, costs


@given(case=cases())
def test_table_equals_a_plain_reference_and_the_choice_is_its_maximum_or_flat(case):
    price, proba, costs = case
    grid = {"enter": [0.55, 0.75], "exit": [0.0, 0.5]}
    result = tune(hysteresis, proba, price, grid, **costs)
    k = costs["fee_bps"] + np.asarray(costs["half_spread_bps"])
    for label, row in result.table.drop(index="flat").iterrows():
        pos = hysteresis(proba, enter=row["enter"], exit=row["exit"])
        want = reference_net_return(price, pos, k, costs["delay"], costs["close_at_end"])
        assert row["net_return"] == pytest.approx(want, abs=1e-12), label
    nets = result.table.drop(index="flat")["net_return"]
    assert result.n_trials == 4 == len(nets)
    assert result.table["chosen"].sum() == 1
    assert result.flat == (nets.max() <= 0)
    chosen = result.table.index[result.table["chosen"]][0]
    assert result.table.loc[chosen, "net_return"] == max(0.0, nets.max())
    assert result.table.loc["flat", "net_return"] == 0.0


def test_ties_go_to_flat_then_to_less_turnover_then_to_the_first():
    price = np.array([100.0, 101.0, 102.0, 103.0])
    never = col2(np.full(4, 0.5))
    assert tune(threshold, never, price, {"enter": [0.6, 0.7]}).flat  # every candidate earns exactly 0
    up = col2(np.array([0.9, 0.9, 0.9, 0.9]))
    result = tune(threshold, up, price, {"enter": [0.6, 0.7, 0.8]})  # identical positions and returns
    assert result.params == {"enter": 0.6}

    def churn(proba, mode):  # the same net return without costs (out over a bar without a move), more turnover
        return np.array([1.0, 0.0, 1.0, 1.0, 1.0]) if mode == "churn" else np.ones(5)

    five = col2(np.full(5, 0.9))
    result = tune(churn, five, np.array([100.0, 101.0, 101.0, 102.0, 103.0]), {"mode": ["churn", "hold"]})
    assert result.table.loc["mode='churn'", "net_return"] == result.table.loc["mode='hold'", "net_return"] > 0
    assert result.table.loc["mode='churn'", "turnover"] > result.table.loc["mode='hold'", "turnover"]
    assert result.params == {"mode": "hold"}


def test_no_grid_is_the_rule_with_its_defaults_against_flat():
    price, proba = market(1, edge=0.25)
    result = tune(sign, proba, price, fee_bps=0.1)
    assert list(result.table.index) == ["flat", "defaults"] and result.params == {} and result.n_trials == 1
    assert_array_equal(result.apply(proba), sign(proba))


def test_rules_that_take_the_price():
    price, proba = market(2, edge=0.25)
    pred = (proba[:, 1] - proba[:, 0]) / 100
    result = tune(rules, pred, price, {"threshold": [0.0, 0.001, 0.01]}, fee_bps=0.1, pass_price=True)
    assert not result.flat
    assert_array_equal(result.apply(pred, price), rules(pred, price, **result.params))
    with pytest.raises(TypeError, match="price: expected the prices of signal's rows"):
        result.apply(pred)


def test_apply_keeps_pandas_labels_and_flat_is_zeros_on_the_index():
    price, proba = market(4, n=200, edge=0.0)
    idx = pd.date_range("2024-01-02 09:30", periods=200, freq="min")
    frame = pd.DataFrame(proba, index=idx, columns=["down", "up"])
    result = tune(threshold, frame, pd.Series(price, index=idx), {"enter": [0.6]}, half_spread_bps=5.0)
    out = result.apply(frame)
    assert result.flat and isinstance(out, pd.Series) and out.index.equals(idx) and (out == 0).all()
    assert isinstance(result, TuneResult) and "flat" in repr(result.table)


# ---------------------------------------------------------------- the test rows are never read


@given(seed=st.integers(0, 2**16), edge=st.sampled_from([0.0, 0.25]), garbage=st.sampled_from(["nan", "invalid"]))
def test_rows_outside_the_validation_slice_are_never_read(seed, edge, garbage):
    price, proba = market(seed, n=600, edge=edge)
    spread = np.full(600, 0.5)
    val = slice(200, 400)
    clean = tune(hysteresis, proba[val], price[val], {"enter": ENTER[1:]}, half_spread_bps=spread[val])
    dirty_p, dirty_px, dirty_s = proba.copy(), price.copy(), spread.copy()
    outside = np.r_[0:200, 400:600]
    if garbage == "nan":
        dirty_p[outside], dirty_px[outside], dirty_s[outside] = NAN, NAN, NAN
    else:  # values every check would refuse: probabilities of 7, negative prices and costs
        dirty_p[outside], dirty_px[outside], dirty_s[outside] = 7.0, -1.0, -3.0
    dirty = tune(hysteresis, dirty_p, dirty_px, {"enter": ENTER[1:]}, half_spread_bps=dirty_s, validation=val)
    assert dirty.params == clean.params
    pd.testing.assert_frame_equal(dirty.table, clean.table)


def test_pandas_inputs_with_a_validation_slice_read_only_those_rows():
    price, proba = market(5, n=300, edge=0.25)
    idx = pd.date_range("2024-01-02 09:30", periods=300, freq="min")
    frame = pd.DataFrame(proba, index=idx)
    frame.iloc[250:] = 9.0
    px = pd.Series(price, index=idx)
    result = tune(threshold, frame, px, {"enter": [0.55, 0.6]}, validation=slice(50, 200))
    want = tune(threshold, proba[50:200], price[50:200], {"enter": [0.55, 0.6]})
    pd.testing.assert_frame_equal(result.table, want.table)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p, px: tune("threshold", p, px), TypeError, "rule: expected a callable"),
        (lambda p, px: tune(threshold, p, px, [0.6]), TypeError, "grid: expected a dict"),
        (lambda p, px: tune(threshold, p, px, {"enter": 0.6}), TypeError, "enter: expected a list, tuple or range"),
        (lambda p, px: tune(threshold, p, px, {"enter": [0.3]}), ValueError, "enter: expected a finite number in"),
        (lambda p, px: tune(threshold, p, px, delay=1.5), TypeError, "delay: expected an integer >= 0, got 1.5"),
        (lambda p, px: tune(threshold, p, px, close_at_end="no"), TypeError, "close_at_end: expected True or False"),
        (lambda p, px: tune(threshold, p, px, pass_price=1), TypeError, "pass_price: expected True or False"),
        (lambda p, px: tune(threshold, p, px, validation=(0, 5)), TypeError, "validation: expected a slice"),
        (lambda p, px: tune(threshold, p, px, validation=slice(5, 5)), ValueError, "validation: expected a non-empty"),
        (lambda p, px: tune(threshold, p, px, validation=slice(0, 9, 2)), ValueError, "with step 1"),
        (lambda p, px: tune(threshold, p, -px), ValueError, r"price: expected values > 0, got -100\.0 at row 0"),
        (lambda p, px: tune(threshold, p, px[:5]), ValueError, "price: expected 10 rows"),
        (lambda p, px: tune(threshold, p.astype(str), px), TypeError, "signal: expected numbers, got strings"),
        (
            lambda p, px: tune(threshold, p, np.arange(10).astype("datetime64[ns]")),
            TypeError,
            "price: expected numbers, got datetimes",
        ),
        (
            lambda p, px: tune(lambda q: np.c_[sign(q), sign(q)], p, px),
            ValueError,
            "rule: expected one position column",
        ),
        (lambda p, px: tune(threshold, p, px, fee_bps=-1.0), ValueError, "fee_bps"),
    ],
)
def test_bad_inputs(call, error, message):
    price, proba = market(0, n=10)
    with pytest.raises(error, match=message):
        call(proba, price)


def test_pool_sums_each_candidate_over_separate_stretches_and_chooses_on_the_sums():
    from signalbench.strategies.tuning import pool

    rng = np.random.default_rng(7)
    grid = {"enter": [0.55, 0.7], "exit": [0.5]}
    stretches = []
    for _ in range(3):
        price = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, 60)))
        p_up = np.clip(0.5 + 40 * np.r_[np.diff(np.log(price)), 0.0] + rng.normal(0, 0.1, 60), 0.01, 0.99)
        stretches.append((col2(p_up), price))
    results = [tune(hysteresis, s, p, grid, fee_bps=0.5) for s, p in stretches]
    pooled = pool(results)
    totals = {}
    for enter in grid["enter"]:  # each stretch priced on its own: no position carried across
        totals[enter] = sum(
            reference_net_return(p, np.nan_to_num(hysteresis(s, enter=enter, exit=0.5)), 0.5) for s, p in stretches
        )
    best = max(totals, key=totals.get)
    assert pooled.params == ({"enter": best, "exit": 0.5} if totals[best] > 0 else None)
    assert pooled.n_trials == 2 and pooled.table["chosen"].sum() == 1
    for enter, total in totals.items():
        assert pooled.table.loc[f"enter={enter}, exit=0.5", "net_return"] == pytest.approx(total, abs=1e-12)
    with pytest.raises(ValueError, match="results: expected at least one TuneResult"):
        pool([])
