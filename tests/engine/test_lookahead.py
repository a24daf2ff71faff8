"""No look-ahead: changing prices (or later positions) after bar t leaves everything up to t unchanged."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import backtest_of_a_tiny_sample as backtest


@st.composite
def perturbed(draw):
    n = draw(st.integers(2, 50))
    m = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    price = 100 * np.cumprod(1 + rng.normal(0, 0.02, (n, m)), axis=0)
    position = rng.uniform(-1, 1, (n, m))
    hs = rng.uniform(0, 5, (n, 1))
    t = draw(st.integers(0, n - 2))
    price2, position2, hs2 = price.copy(), position.copy(), hs.copy()
    price2[t + 1 :] *= rng.uniform(0.5, 2.0, (n - t - 1, m))
    position2[t + 1 :] = rng.uniform(-1, 1, (n - t - 1, m))
    hs2[t + 1 :] = rng.uniform(0, 5, (n - t - 1, 1))
    kw = {
        "delay": draw(st.integers(0, 3)),
        "mode": draw(st.sampled_from(["compound", "additive"])),
        "fee_bps": draw(st.floats(0, 10)),
        "periods_per_year": 252,
    }
    return t, (price, position, hs), (price2, position2, hs2), kw


@given(perturbed())
def test_future_changes_leave_the_past_unchanged(case):
    t, (p1, q1, h1), (p2, q2, h2), kw = case
    a = backtest(p1, q1, half_spread_bps=h1, **kw)
    b = backtest(p2, q2, half_spread_bps=h2, **kw)
    for name in ("exposure", "gross_returns", "costs", "returns", "equity", "drawdown"):
        np.testing.assert_array_equal(getattr(a, name)[: t + 1], getattr(b, name)[: t + 1], err_msg=name)


def test_the_test_can_fail():
    """A position earns the *next* bar's move: perturbing price t+1 must change the return at t+1."""
    price = np.array([100.0, 101.0, 102.0])
    a = backtest(price, np.ones(3), periods_per_year=252)
    b = backtest(price * np.array([1, 1, 1.1]), np.ones(3), periods_per_year=252)
    assert a.returns[2] != b.returns[2] and a.returns[1] == b.returns[1]
