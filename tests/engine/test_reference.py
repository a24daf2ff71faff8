"""The engine against a plain-NumPy reimplementation of the conventions in docs/architecture.md (hypothesis).

Equality is to 1e-12 relative; an absolute floor of 1e-14 covers values that are exactly zero on one side and a
rounding residue on the other (e.g. a drawdown of 0 against 1e-17).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import backtest_of_a_tiny_sample as backtest

RTOL, ATOL = 1e-12, 1e-14


def reference(price, position, fee, half_spread, slippage, delay, mode, close_at_end):
    """Vectorized NumPy version of the conventions; every input already broadcastable to (n, m)."""
    n, m = position.shape
    price = np.broadcast_to(price, (n, m))
    e = np.zeros((n, m))
    if delay < n:
        e[delay:] = position[: n - delay]
    if close_at_end:
        e[-1] = 0.0
    prev = np.vstack([np.zeros((1, m)), e[:-1]])
    x = np.zeros((n, m))
    x[1:] = price[1:] / price[:-1] - 1.0
    g = prev * x
    k = (np.broadcast_to(fee, (n, m)) + np.broadcast_to(half_spread, (n, m)) + np.broadcast_to(slippage, (n, m))) / 1e4
    c = np.abs(e - prev) * k
    r = g - c
    equity = np.cumprod(1.0 + r, axis=0) if mode == "compound" else 1.0 + np.cumsum(r, axis=0)
    peak = np.maximum.accumulate(np.vstack([np.ones((1, m)), equity]), axis=0)[1:]
    drawdown = equity / peak - 1.0
    return {"returns": r, "gross_returns": g, "costs": c, "exposure": e, "equity": equity, "drawdown": drawdown}


def reference_stats(r, e, g, c, mode, ppy):
    n = r.shape[0]
    mean = r.mean(axis=0)
    std = r.std(axis=0, ddof=1) if n > 1 else np.full(r.shape[1], np.nan)
    std = np.where(np.ptp(r, axis=0) == 0, 0.0, std) if n > 1 else std  # all equal: exactly zero variance
    prev = np.vstack([np.zeros((1, r.shape[1])), e[:-1]])
    turnover = np.abs(e - prev).sum(axis=0)
    equity = np.cumprod(1.0 + r, axis=0) if mode == "compound" else 1.0 + np.cumsum(r, axis=0)
    peak = np.maximum.accumulate(np.vstack([np.ones((1, r.shape[1])), equity]), axis=0)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.divide(mean, std) * np.sqrt(ppy)
    return {
        "total_return_compound": np.prod(1.0 + r, axis=0) - 1.0,
        "total_return_additive": r.sum(axis=0),
        "max_drawdown": (equity / peak - 1.0).min(axis=0),  # of the equity in the backtest's mode
        "ann_volatility": std * np.sqrt(ppy),
        # zero variance: +-inf for a non-zero mean, NaN for a zero mean (the documented, empyrical convention)
        "sharpe": sharpe,
        "n_trades": (e != prev).sum(axis=0).astype(float),
        "turnover": turnover,
        "cost_paid": c.sum(axis=0),
        "exposure_time": (e != 0).mean(axis=0),
        "breakeven_cost_bps": np.where(turnover > 0, 1e4 * g.sum(axis=0) / np.where(turnover > 0, turnover, 1), np.nan),
    }


@st.composite
def cases(draw):
    n = draw(st.integers(1, 40))
    m = draw(st.integers(1, 4))
    shared_price = draw(st.booleans())
    mp = 1 if shared_price else m
    steps = draw(
        st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=n * mp, max_size=n * mp).map(
            lambda v: np.array(v).reshape(n, mp)
        )
    )
    price = draw(st.floats(0.5, 500.0)) * np.cumprod(1.0 + steps, axis=0)
    position = np.array(
        draw(
            st.lists(
                st.one_of(st.sampled_from([-1.0, 0.0, 1.0, 0.5]), st.floats(-1.0, 1.0, allow_nan=False)),
                min_size=n * m,
                max_size=n * m,
            )
        )
    ).reshape(n, m)
    cost = st.floats(0.0, 50.0, allow_nan=False)

    def per(kind):
        if kind == "scalar":
            return draw(cost)
        if kind == "column":
            return np.array(draw(st.lists(cost, min_size=m, max_size=m)))
        if kind == "row":
            return np.array(draw(st.lists(cost, min_size=n, max_size=n)))
        return np.array(draw(st.lists(cost, min_size=n * m, max_size=n * m))).reshape(n, m)

    fee_kind = draw(st.sampled_from(["scalar", "column"]))
    hs_kind = draw(st.sampled_from(["scalar", "column", "row", "cell"]))
    slip_kind = draw(st.sampled_from(["scalar", "column"]))
    if n == m and m > 1 and hs_kind in ("column", "row"):
        hs_kind = "cell"  # a bare length-m sequence is ambiguous when n == m (tested separately)
    return {
        "price": price if not (shared_price and draw(st.booleans())) else price[:, 0],
        "position": position,
        "fee": (fee_kind, per(fee_kind)),
        "hs": (hs_kind, per(hs_kind)),
        "slip": (slip_kind, per(slip_kind)),
        "delay": draw(st.integers(0, 5)),
        "mode": draw(st.sampled_from(["compound", "additive"])),
        "close_at_end": draw(st.booleans()),
    }


def _broadcastable(kind, value, n, m):
    if kind == "scalar":
        return np.asarray(value)
    if kind == "column":
        return np.asarray(value).reshape(1, m)
    if kind == "row":
        return np.asarray(value).reshape(n, 1)
    return np.asarray(value)


@given(cases())
def test_engine_equals_numpy_reference(case):
    price, position = case["price"], case["position"]
    n, m = position.shape
    res = backtest(
        price,
        position,
        fee_bps=case["fee"][1],
        half_spread_bps=case["hs"][1],
        slippage_bps=case["slip"][1],
        delay=case["delay"],
        mode=case["mode"],
        close_at_end=case["close_at_end"],
        periods_per_year=252,
    )
    p2 = price.reshape(n, -1)
    ref = reference(
        p2,
        position,
        _broadcastable(*case["fee"], n, m),
        _broadcastable(*case["hs"], n, m),
        _broadcastable(*case["slip"], n, m),
        case["delay"],
        case["mode"],
        case["close_at_end"],
    )
    for name, expected in ref.items():
        got = getattr(res, name)
        assert got.shape == (n, m), name
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=name)
    stats = reference_stats(ref["returns"], ref["exposure"], ref["gross_returns"], ref["costs"], case["mode"], 252)
    for name, expected in stats.items():
        np.testing.assert_allclose(res.stats.loc[name].to_numpy(), expected, rtol=1e-9, atol=1e-12, err_msg=name)


@given(cases())
def test_outputs_are_column_major(case):
    res = backtest(case["price"], case["position"], periods_per_year=252)
    for name in ("returns", "gross_returns", "costs", "exposure", "equity", "drawdown"):
        assert getattr(res, name).flags.f_contiguous, name


@pytest.mark.parametrize("mode", ["compound", "additive"])
def test_reversal_pays_twice(mode):
    price = np.array([100.0, 100.0, 100.0])
    res = backtest(price, np.array([1.0, -1.0, -1.0]), fee_bps=10, mode=mode, periods_per_year=252)
    np.testing.assert_allclose(res.costs, [1e-3, 2e-3, 0.0])


def test_hand_worked_example():
    # position decided at t is held from t to t+1; costs at 5 bps all-in per unit traded
    price = np.array([100.0, 110.0, 99.0, 99.0])
    position = np.array([1.0, 0.5, -1.0, 0.0])
    res = backtest(price, position, fee_bps=2, half_spread_bps=2, slippage_bps=1, mode="additive", periods_per_year=1)
    np.testing.assert_allclose(res.gross_returns, [0.0, 0.10, 0.5 * (99 / 110 - 1), 0.0])
    np.testing.assert_allclose(res.costs, [5e-4, 0.5 * 5e-4, 1.5 * 5e-4, 1.0 * 5e-4])
    np.testing.assert_allclose(res.equity[-1], 1 + 0.10 + 0.5 * (99 / 110 - 1) - 4.0 * 5e-4)


def test_delay_shifts_execution():
    price = np.array([100.0, 101.0, 103.0, 102.0, 104.0])
    position = np.array([1.0, 1.0, -1.0, 0.0, 1.0])
    res = backtest(price, position, delay=2, periods_per_year=252)
    np.testing.assert_array_equal(res.exposure, [0.0, 0.0, 1.0, 1.0, -1.0])
