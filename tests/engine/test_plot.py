"""BacktestResult.plot(): equity and drawdown of every column against the benchmarks, as a matplotlib Figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench.engine import backtest


def _result():
    rng = np.random.default_rng(4)
    index = pd.date_range("2024-01-02", periods=300, freq="D")
    price = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))), index=index)
    pos = pd.DataFrame({"a": np.sign(rng.normal(size=300)), "buy_and_hold": np.ones(300)}, index=index)
    return backtest(price, pos, fee_bps=1.0, benchmarks=["buy_and_hold"])


def test_plot_draws_equity_and_drawdown_of_every_column():
    from matplotlib.figure import Figure

    res = _result()
    fig = res.plot()
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    assert [line.get_label() for line in top.get_lines()] == ["a", "buy_and_hold"]
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), res.equity["a"].to_numpy())
    np.testing.assert_allclose(bottom.get_lines()[1].get_ydata(), res.drawdown["buy_and_hold"].to_numpy())
    assert top.get_lines()[1].get_linestyle() != "-"  # the benchmark is set apart


def test_plot_names_an_unknown_column():
    with pytest.raises(ValueError, match="columns"):
        _result().plot(["nope"])
