"""Probability rules: hand-worked examples, hypothesis properties (range, causality, NaN rows flat), errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from signalbench.strategies import ensemble, hysteresis, sign, size_by_confidence, spread_filter, threshold

NAN = np.nan


def col2(p_up):
    p_up = np.asarray(p_up, dtype=float)
    return np.column_stack([1 - p_up, p_up])


# ---------------------------------------------------------------- hypothesis inputs


@st.composite
def probas(draw, k=None, min_n=1, max_n=40):
    """(n, k) probabilities: integer weights normalised (many exact ties), about a quarter NaN rows."""
    k = draw(st.sampled_from([2, 3])) if k is None else k
    n = draw(st.integers(min_n, max_n))
    w = draw(hnp.arrays(np.float64, (n, k), elements=st.integers(0, 12).map(float)))
    w[w.sum(axis=1) == 0] = 1.0
    p = w / w.sum(axis=1, keepdims=True)
    nan_rows = draw(hnp.arrays(np.bool_, n, elements=st.integers(0, 3).map(lambda v: v == 0)))
    p[nan_rows] = NAN
    return p


@st.composite
def proba_pair_and_cut(draw):
    """Two probability arrays of one shape and a cut t: the second replaces rows after t."""
    p = draw(probas())
    q = draw(probas(k=p.shape[1], min_n=len(p), max_n=len(p)))
    t = draw(st.integers(0, len(p) - 1))
    changed = np.concatenate([p[: t + 1], q[t + 1 :]])
    return p, changed, t


def _nan_where_no_proba(p, pos):
    return np.where(np.isnan(p).any(axis=1), NAN, pos)


def _k(p):
    return p.shape[1]


RULES = {
    "sign": lambda p: sign(p),
    "threshold": lambda p: threshold(p, enter=0.5 if _k(p) == 2 else 0.4),
    "threshold_high": lambda p: threshold(p, enter=0.6),
    "hysteresis": lambda p: hysteresis(p, enter=0.6, exit=0.45),
    "hysteresis_wide": lambda p: hysteresis(p, enter=0.5, exit=0.0),
    "size_by_confidence": lambda p: size_by_confidence(p, scale=1.7, min_edge=0.1),
    "spread_filter_hold": lambda p: spread_filter(_nan_where_no_proba(p, sign(p)), np.arange(len(p)) % 3, 1.5),
    "spread_filter_flat": lambda p: spread_filter(
        _nan_where_no_proba(p, sign(p)), np.arange(len(p)) % 3, 1.5, when_wide="flat"
    ),
    "ensemble_mean": lambda p: size_by_confidence(ensemble([p, np.where(np.isnan(p), NAN, p[:, ::-1])])),
    "ensemble_vote": lambda p: sign(ensemble([p, p, np.where(np.isnan(p), NAN, p[:, ::-1])], method="vote")),
}


@given(p=probas())
def test_positions_in_range_and_nan_rows_flat(p):
    for name, rule in RULES.items():
        pos = rule(p)
        assert pos.shape == (len(p),), name
        assert np.isfinite(pos).all(), name
        assert (np.abs(pos) <= 1).all(), name
        assert (pos[np.isnan(p).all(axis=1)] == 0).all(), name


@given(data=proba_pair_and_cut())
def test_causality_rows_after_t_do_not_change_positions_up_to_t(data):
    p, changed, t = data
    for name, rule in RULES.items():
        assert_array_equal(rule(changed)[: t + 1], rule(p)[: t + 1], err_msg=name)


# ---------------------------------------------------------------- sign


def test_sign_two_classes_hand_worked():
    p = col2([0.51, 0.49, 0.5, 0.9, NAN])
    assert_array_equal(sign(p), [1, -1, -1, 1, 0])  # tie 0.5/0.5 is short (the usual P(up) <= 0.5 -> short)


def test_sign_three_classes_flat_when_stationary_most_likely():
    p = np.array(
        [
            [0.2, 0.3, 0.5],  # up
            [0.5, 0.3, 0.2],  # down
            [0.3, 0.4, 0.3],  # stationary wins
            [0.4, 0.4, 0.2],  # stationary ties for the top: flat
            [0.35, 0.3, 0.35],  # up/down tie above stationary: short
            [NAN, NAN, NAN],
        ]
    )
    assert_array_equal(sign(p), [1, -1, 0, 0, -1, 0])


@given(p=probas(k=2))
def test_sign_is_never_flat_on_a_valid_two_class_row(p):
    valid = ~np.isnan(p).any(axis=1)
    pos = sign(p)
    assert (np.abs(pos[valid]) == 1).all()
    assert_array_equal(pos[valid] == 1, p[valid, 1] > p[valid, 0])


# ---------------------------------------------------------------- threshold


def test_threshold_hand_worked_two_classes():
    p = col2([0.7, 0.55, 0.56, 0.44, 0.45, 0.5, NAN])
    assert_array_equal(threshold(p, enter=0.55), [1, 0, 1, -1, 0, 0, 0])  # strictly above enter


def test_threshold_three_classes():
    p = np.array(
        [
            [0.1, 0.2, 0.7],  # up, confident
            [0.6, 0.3, 0.1],  # down, confident
            [0.1, 0.7, 0.2],  # stationary wins: flat
            [0.3, 0.25, 0.45],  # up wins but 0.45 <= 0.5
            [0.45, 0.1, 0.45],  # tie for the top: flat
        ]
    )
    assert_array_equal(threshold(p, enter=0.5), [1, -1, 0, 0, 0])
    assert_array_equal(threshold(p, enter=0.4), [1, -1, 0, 1, 0])


@given(p=probas())
def test_threshold_trades_a_subset_of_sign_in_the_same_direction(p):
    pos = threshold(p, enter=0.6)
    s = sign(p)
    traded = pos != 0
    assert_array_equal(pos[traded], s[traded])
    assert (np.nanmax(np.where(np.isnan(p), -1, p), axis=1)[traded] > 0.6).all()


# ---------------------------------------------------------------- hysteresis


def test_hysteresis_hand_worked_two_classes():
    p_up = [0.5, 0.6, 0.53, 0.5, 0.49, 0.53, 0.3, 0.42, 0.55, 0.8, NAN, 0.52]
    # 0.5: flat; 0.6 > 0.55: long; 0.53, 0.5 >= exit: hold; 0.49 < 0.5: exit; 0.53: no entry;
    # 0.3: P(down)=0.7: short; 0.42: P(down)=0.58: hold short; 0.55: P(down)=0.45 < 0.5: exit;
    # 0.8: long; NaN: flat and forgotten; 0.52: no entry.
    expected = [0, 1, 1, 1, 0, 0, -1, -1, 0, 1, 0, 0]
    assert_array_equal(hysteresis(col2(p_up), enter=0.55, exit=0.5), expected)


def test_hysteresis_reverses_when_the_other_side_is_confident():
    p_up = [0.7, 0.44, 0.3]
    # exit=0.3: the long survives 0.44 only if no short entry; P(down)=0.56 > 0.55 -> reversal
    assert_array_equal(hysteresis(col2(p_up), enter=0.55, exit=0.3), [1, -1, -1])


def test_hysteresis_three_classes_needs_a_winning_direction_to_enter():
    p = np.array(
        [
            [0.2, 0.45, 0.35],  # up 0.35 > enter 0.34 but stationary wins: no entry
            [0.1, 0.3, 0.6],  # long
            [0.2, 0.5, 0.3],  # stationary wins, up 0.3 >= exit 0.25: hold
            [0.2, 0.6, 0.2],  # up 0.2 < 0.25: exit
        ]
    )
    assert_array_equal(hysteresis(p, enter=0.34, exit=0.25), [0, 1, 1, 0])


def _hysteresis_reference(p, enter, exit_):
    out, pos = [], 0
    for row in p:
        if np.isnan(row).any():
            pos = 0
        else:
            down, up = row[0], row[-1]
            others = row[1:-1] if len(row) == 3 else []
            if up > enter and up > down and all(up > o for o in others):
                pos = 1
            elif down > enter and down > up and all(down > o for o in others):
                pos = -1
            elif (pos == 1 and up < exit_) or (pos == -1 and down < exit_):
                pos = 0
        out.append(pos)
    return np.array(out, dtype=float)


@given(p=probas(), enter=st.sampled_from([0.5, 0.55, 0.6, 0.75]), gap=st.sampled_from([0.01, 0.1, 0.3, 0.5]))
def test_hysteresis_matches_a_plain_python_reference(p, enter, gap):
    assert_array_equal(hysteresis(p, enter=enter, exit=enter - gap), _hysteresis_reference(p, enter, enter - gap))


@given(p=probas())
def test_hysteresis_trades_no_more_often_than_threshold(p):
    h = hysteresis(p, enter=0.6, exit=0.4)
    t = threshold(p, enter=0.6)
    assert np.abs(np.diff(h, prepend=0)).sum() <= np.abs(np.diff(t, prepend=0)).sum()


# ---------------------------------------------------------------- size_by_confidence


def test_size_by_confidence_hand_worked():
    p = col2([0.8, 0.45, 0.5, 0.52, 1.0, NAN])
    assert np.allclose(size_by_confidence(p), [0.6, -0.1, 0.0, 0.04, 1.0, 0.0])
    assert np.allclose(size_by_confidence(p, scale=2.0), [1.0, -0.2, 0.0, 0.08, 1.0, 0.0])
    assert np.allclose(size_by_confidence(p, min_edge=0.05), [0.6, -0.1, 0.0, 0.0, 1.0, 0.0])


def test_size_by_confidence_three_classes_uses_up_minus_down():
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.4, 0.1]])
    assert np.allclose(size_by_confidence(p), [0.2, -0.4])


@given(p=probas(), scale=st.floats(0.1, 10))
def test_size_by_confidence_sign_agrees_with_edge(p, scale):
    pos = size_by_confidence(p, scale=scale)
    edge = p[:, -1] - p[:, 0]
    valid = ~np.isnan(edge)
    assert_array_equal(np.sign(pos[valid]), np.sign(edge[valid]))
    assert np.allclose(pos[valid], np.clip(scale * edge[valid], -1, 1))


# ---------------------------------------------------------------- spread_filter


def test_spread_filter_hold_keeps_last_tradable_position():
    pos = np.array([1.0, 1.0, -1.0, -1.0, 0.0, 0.5, NAN, 1.0, 1.0])
    spread = np.array([3.0, 1.0, 3.0, 1.0, 2.0, NAN, 3.0, 3.0, 1.0])
    # bar 0 wide: still flat; bar 1 trades to 1; bar 2 wide: hold 1; bar 3 -1; bar 4 at the bound: hold;
    # bar 5 unknown spread: hold; bar 6 no prediction: flat even though wide; bar 7 wide: hold flat; bar 8: 1
    assert_array_equal(spread_filter(pos, spread, max_spread=2.0), [0, 1, 1, -1, -1, -1, 0, 0, 1])
    assert_array_equal(spread_filter(pos, spread, max_spread=2.0, when_wide="flat"), [0, 1, 0, -1, 0, 0, 0, 0, 1])


def test_spread_filter_two_dimensional_positions_and_pandas():
    idx = pd.date_range("2024-01-01", periods=4, freq="min")
    pos = pd.DataFrame({"a": [1.0, -1.0, -1.0, 1.0], "b": [NAN, 1.0, 0.0, -1.0]}, index=idx)
    spread = pd.Series([1.0, 5.0, 1.0, 5.0], index=idx)
    out = spread_filter(pos, spread, max_spread=2.0)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(idx) and list(out.columns) == ["a", "b"]
    assert_array_equal(out.to_numpy(), [[1, 0], [1, 0], [-1, 0], [-1, 0]])


def test_spread_filter_never_trades_on_a_wide_bar():
    rng = np.random.default_rng(5)
    pos = rng.choice([-1.0, 0.0, 1.0], size=200)
    spread = rng.uniform(0, 2, size=200)
    out = spread_filter(pos, spread, max_spread=1.0)
    changes = np.flatnonzero(np.diff(out, prepend=0.0) != 0)
    assert (spread[changes] < 1.0).all()


# ---------------------------------------------------------------- ensemble


def test_ensemble_mean_and_weights():
    a = col2([0.8, 0.4, NAN])
    b = col2([0.4, 0.4, 0.6])
    assert np.allclose(ensemble([a, b])[:2], col2([0.6, 0.4]))
    assert np.allclose(ensemble([a, b], weights=[3, 1])[:2], col2([0.7, 0.4]))
    assert np.isnan(ensemble([a, b])[2]).all()  # waits for every member's warm-up


def test_ensemble_vote_splits_ties():
    a = np.array([[0.2, 0.3, 0.5], [0.4, 0.4, 0.2]])
    b = np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    c = np.array([[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]])
    out = ensemble({"a": a, "b": b, "c": c}, method="vote")
    assert np.allclose(out, [[1 / 3, 0, 2 / 3], [1 / 6, 1 / 2, 1 / 3]])
    weighted = ensemble({"a": a, "b": b, "c": c}, weights={"a": 0, "b": 1, "c": 1}, method="vote")
    assert np.allclose(weighted[0], [0.5, 0, 0.5])


@given(p=probas(), q_seed=st.integers(0, 2**16), method=st.sampled_from(["mean", "vote"]))
def test_ensemble_output_is_a_probability_array(p, q_seed, method):
    rng = np.random.default_rng(q_seed)
    q = rng.dirichlet(np.ones(p.shape[1]), size=len(p))
    out = ensemble([p, q], method=method)
    valid = ~np.isnan(p).any(axis=1)
    assert np.isnan(out[~valid]).all()
    assert np.allclose(out[valid].sum(axis=1), 1)
    assert (out[valid] >= 0).all()
    sign(out)  # a valid input for every rule


def test_ensemble_pandas_in_pandas_out():
    idx = pd.RangeIndex(10, 13)
    a = pd.DataFrame(col2([0.8, 0.4, 0.5]), index=idx, columns=["down", "up"])
    out = ensemble([a, col2([0.6, 0.2, 0.5])])
    assert isinstance(out, pd.DataFrame) and out.index.equals(idx) and list(out.columns) == ["down", "up"]
    with pytest.raises(ValueError, match=r"probas\[1\]'s index: expected the index of the first pandas model"):
        ensemble([a, a.set_axis(pd.RangeIndex(3))])


# ---------------------------------------------------------------- pandas in, pandas out


@pytest.mark.parametrize("rule", [sign, threshold, hysteresis, size_by_confidence])
def test_pandas_input_gives_series_with_same_index(rule):
    idx = pd.date_range("2024-03-01 09:30", periods=4, freq="s")
    p = pd.DataFrame(col2([0.7, 0.2, NAN, 0.5]), index=idx, columns=["down", "up"])
    out = rule(p)
    assert isinstance(out, pd.Series) and out.index.equals(idx)
    assert_array_equal(out.to_numpy(), rule(p.to_numpy()))


def test_inputs_are_not_mutated():
    p = col2([0.7, NAN, 0.3])
    before = p.copy()
    for rule in (sign, threshold, hysteresis, size_by_confidence):
        rule(p)
    ensemble([p, p], method="vote")
    assert_array_equal(p, before)


# ---------------------------------------------------------------- errors

BAD_PROBAS = [
    (np.array([[0.0, 1.2]]), r"proba: expected probabilities <= 1, got \[0\.0, 1\.2\] at row 0"),
    (np.array([[0.6, 0.6]]), r"proba: expected rows that sum to 1 .* at row 0; pass class probabilities"),
    (np.array([[-0.1, 1.1]]), r"proba: expected probabilities >= 0, got \[-0\.1, 1\.1\] at row 0"),
    (np.array([[0.2, 0.3, 0.4, 0.1]]), "proba: expected 2 columns .* got 4 columns"),
    (np.array([[1.0]]), "proba: expected 2 columns .* got 1 columns"),
    (np.array([0.4, 0.6]), r"proba: expected a 2-D \(n, k\) array .*np.column_stack"),
    (np.zeros((2, 2, 2)), "proba: expected a 2-D"),
    (
        np.array([[0.2, 0.8], [0.5, NAN]]),
        r"proba: expected each row all NaN or all numbers, got \[0\.5, nan\] at row 1",
    ),
    (np.array([[np.inf, 0.0]]), "proba: expected no infinite values, got inf at row 0"),
    (np.array([[0.3, 0.3]]), "sum to 1"),
    (pd.Series([0.4, 0.6]), "proba: expected a 2-D .* got a Series"),
    ([[0.4, 0.6], [0.5]], "proba: expected a rectangular array"),
]


@pytest.mark.parametrize("rule", [sign, threshold, hysteresis, size_by_confidence])
@pytest.mark.parametrize(("proba", "message"), BAD_PROBAS)
def test_not_a_probability_array_is_a_value_error_naming_the_argument(rule, proba, message):
    with pytest.raises(ValueError, match=message):
        rule(proba)


def test_a_bad_row_is_named_by_its_time_label():
    idx = pd.date_range("2024-03-01 09:30", periods=3, freq="s")
    p = pd.DataFrame(col2([0.7, 0.2, 0.5]), index=idx, columns=["down", "up"])
    p.iloc[2, 1] = 0.9
    with pytest.raises(ValueError, match=r"at row 2 \(2024-03-01 09:30:02\)"):
        sign(p)


def test_rows_within_tolerance_are_accepted():
    p = np.array([[0.3, 0.7 + 5e-7]])
    assert_array_equal(sign(p), [1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: threshold(p, enter=0.4), r"enter: expected a finite number in \[0\.5, 1\), got 0\.4"),
        (lambda p: threshold(p, enter=1.0), r"enter: expected a finite number in \[0\.5, 1\), got 1\.0"),
        (lambda p: threshold(p, enter=NAN), "enter: expected a finite number"),
        (lambda p: hysteresis(p, enter=0.6, exit=0.6), r"exit: expected a number in \[0, enter=0\.6\), got 0\.6"),
        (lambda p: hysteresis(p, enter=0.6, exit=0.7), r"exit: expected a number in \[0, enter=0\.6\)"),
        (lambda p: hysteresis(p, enter=0.6, exit=-0.1), r"exit: expected a number in \[0, enter=0\.6\), got -0\.1"),
        (lambda p: size_by_confidence(p, scale=0), "scale: expected a finite number > 0, got 0"),
        (lambda p: size_by_confidence(p, min_edge=1.0), r"min_edge: expected a finite number in \[0, 1\)"),
        (lambda p: spread_filter(sign(p), [1.0, 1.0], 0.0), "max_spread: expected a finite number > 0"),
        (lambda p: spread_filter(sign(p), [1.0], 1.0), "spread: expected 2 rows"),
        (lambda p: spread_filter(sign(p), np.ones((2, 3)), 1.0), "spread: expected 1 column"),
        (lambda p: spread_filter(sign(p), [1.0, 1.0], 1.0, when_wide="hld"), "when_wide: .*did you mean 'hold'"),
        (lambda p: spread_filter(2 * sign(p), [1.0, 1.0], 1.0), r"position: expected positions in \[-1, 1\], got 2"),
        (lambda p: spread_filter(sign(p), [1.0, np.inf], 1.0), "spread: expected no infinite values"),
        (lambda p: ensemble([p]), "probas: expected at least two models, got 1"),
        (lambda p: ensemble([p, p[:1]]), r"probas\[1\]: expected shape \(2, 2\)"),
        (lambda p: ensemble([p, p], method="men"), "method: .*did you mean 'mean'"),
        (lambda p: ensemble([p, p], weights=[1, -1]), "weights: expected non-negative values"),
        (lambda p: ensemble([p, p], weights=[0, 0]), "weights: expected non-negative values, not all zero"),
        (lambda p: ensemble([p, p], weights=[1]), r"weights: expected one value per model \(2\), got 1"),
        (lambda p: ensemble([p, p], weights={"a": 1, "b": 1}), "weights: expected the keys of probas"),
        (lambda p: ensemble([p, col2([0.5, 1.5])]), r"probas\[1\]: expected probabilities"),
    ],
)
def test_bad_parameters_are_value_errors_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call(col2([0.7, 0.3]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: threshold(p, enter="0.6"), "enter: expected a finite number .* got '0.6'"),
        (lambda p: threshold(p, enter=True), "enter: expected a finite number"),
        (lambda p: hysteresis(p, exit=None), "exit: expected"),
        (lambda p: size_by_confidence(p, scale="2"), "scale: expected"),
        (lambda p: spread_filter(sign(p), [1.0, 1.0], "2"), "max_spread: expected"),
        (lambda p: spread_filter(sign(p), [1.0, 1.0], 1.0, when_wide=1), "when_wide: expected one of 'hold', 'flat'"),
        (lambda p: spread_filter(sign(p), ["1", "x"], 1.0), r"spread: expected numbers, got strings \(dtype <U1\)"),
        (lambda p: spread_filter(sign(p), pd.Series([1.0, "x"]), 1.0), "spread: expected numbers, got 'x' at row 1"),
        (lambda p: ensemble(p), "probas: expected a list"),
        (lambda p: ensemble("p"), "probas: expected a list"),
        (lambda p: ensemble([p, p], method=2), "method: expected one of 'mean', 'vote'"),
        (lambda p: ensemble([p, p], weights=["a", "b"]), "weights: expected numbers"),
    ],
)
def test_wrong_kinds_are_type_errors_naming_the_argument(call, message):
    with pytest.raises(TypeError, match=message):
        call(col2([0.7, 0.3]))


def test_three_class_enter_bound_is_one_third():
    p = np.array([[0.2, 0.3, 0.5]])
    assert_array_equal(threshold(p, enter=1 / 3), [1])
    with pytest.raises(ValueError, match=r"enter: expected a finite number in \[0\.333333, 1\)"):
        threshold(p, enter=0.3)
