"""Deflated Sharpe ratio and PBO: against purgedcv (an independent oracle) and on constructed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from signalbench.engine.selection import deflated_sharpe, deflated_sharpe_row, pbo
from tests.conftest import require_module

purgedcv = require_module("purgedcv")


def heavy_tailed(seed, n_obs, n_cols, scale=0.01):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_t(df=5, size=(n_obs, n_cols)) + 0.002 * rng.standard_normal((1, n_cols)) * scale


def per_obs_sharpe(x):
    return x.mean(axis=0) / x.std(axis=0, ddof=0)


# ---------------------------------------------------------------- deflated Sharpe: purgedcv as oracle


@pytest.mark.parametrize(("seed", "n_obs", "n_cols"), [(0, 500, 20), (1, 60, 3), (2, 2000, 100)])
def test_deflated_sharpe_matches_purgedcv(seed, n_obs, n_cols):
    x = heavy_tailed(seed, n_obs, n_cols)
    sr = per_obs_sharpe(x)
    var = float(np.var(sr, ddof=1))
    best = int(np.argmax(sr))
    ours = deflated_sharpe(x)
    oracle = purgedcv.deflated_sharpe_ratio_full(x[:, best], n_cols, var)  # purgedcv: caller supplies var
    assert ours.best == best
    assert ours.dsr == pytest.approx(oracle.dsr, rel=1e-10, abs=1e-14)
    assert ours.sharpe == pytest.approx(oracle.observed_sr, rel=1e-12)
    assert ours.sr_star == pytest.approx(oracle.sr_star, rel=1e-12)
    assert ours.skew == pytest.approx(oracle.skew, rel=1e-10)
    assert ours.kurtosis == pytest.approx(oracle.kurt, rel=1e-10)


def test_deflated_sharpe_row_matches_purgedcv_column_by_column():
    x = heavy_tailed(3, 400, 12)
    x[:, 4] += 0.004
    var = float(np.var(per_obs_sharpe(x), ddof=1))
    want = [purgedcv.deflated_sharpe_ratio(x[:, j], 12, var) for j in range(12)]
    row = deflated_sharpe_row(x)
    np.testing.assert_allclose(row, want, rtol=1e-10, atol=1e-14)
    assert row[int(np.argmax(per_obs_sharpe(x)))] == pytest.approx(deflated_sharpe(x).dsr, rel=1e-12)


def test_explicit_n_trials_and_var_sharpe_are_passed_through_like_purgedcv():
    x = heavy_tailed(4, 300, 8)
    best = int(np.argmax(per_obs_sharpe(x)))
    ours = deflated_sharpe(x, n_trials=3, var_sharpe=0.002)
    assert ours.dsr == pytest.approx(purgedcv.deflated_sharpe_ratio(x[:, best], 3, 0.002), rel=1e-10)


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # purgedcv's moments of a constant column
def test_default_variance_is_the_sample_variance_of_trial_sharpes():
    """purgedcv leaves V[SR] to the caller; ours estimates it with ddof=1 over non-constant columns."""
    x = heavy_tailed(5, 300, 6)
    x[:, 2] = 0.001  # a constant column: no Sharpe, excluded from V but still counted as a trial
    sr = per_obs_sharpe(np.delete(x, 2, axis=1))
    result = deflated_sharpe(x)
    assert result.var_sharpe == pytest.approx(np.var(sr, ddof=1), rel=1e-12)
    assert result.n_trials == 6
    with pytest.raises(ValueError):
        purgedcv.deflated_sharpe_ratio(x[:, 2], 6, result.var_sharpe)  # purgedcv raises on zero variance
    row = deflated_sharpe_row(x)
    assert np.isnan(row[2]) and np.isfinite(np.delete(row, 2)).all()  # the row helper never raises


# ---------------------------------------------------------------- deflated Sharpe: hand-worked


def test_single_trial_is_the_probabilistic_sharpe_ratio_worked_by_hand():
    r = np.array([0.02, -0.01, 0.03, 0.0, 0.01, -0.02, 0.04, 0.01])
    n = len(r)
    mean = r.sum() / n  # 0.01
    m2 = ((r - mean) ** 2).sum() / n
    m3 = ((r - mean) ** 3).sum() / n
    m4 = ((r - mean) ** 4).sum() / n
    sr = mean / math.sqrt(m2)
    g1 = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)  # adjusted Fisher-Pearson skewness
    excess = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * (m4 / m2**2) - 3 * (n - 1))  # unbiased excess kurtosis
    g2 = excess + 3
    z = sr * math.sqrt(n - 1) / math.sqrt(1 - g1 * sr + (g2 - 1) / 4 * sr**2)
    want = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    assert mean == pytest.approx(0.01)
    result = deflated_sharpe(r)
    assert result.sr_star == 0.0 and result.n_trials == 1
    assert result.dsr == pytest.approx(want, rel=1e-12)
    assert deflated_sharpe_row(r[:, None])[0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_maximum_approximation_is_close_to_the_exact_expected_maximum(n_trials):
    def density(z):
        return n_trials * z * stats.norm.pdf(z) * stats.norm.cdf(z) ** (n_trials - 1)

    exact, _ = integrate.quad(density, -10, 10, limit=200)
    x = heavy_tailed(6, 200, 5)
    approx = deflated_sharpe(x, n_trials=n_trials, var_sharpe=1.0).expected_max_z
    assert approx == pytest.approx(exact, rel=0.03)


def test_more_trials_deflate_more():
    x = heavy_tailed(7, 500, 10)
    values = [deflated_sharpe(x, n_trials=k).dsr for k in (1, 10, 100, 1000)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_noise_winner_is_deflated_but_a_real_edge_survives():
    noise_best = []
    for seed in range(20):
        x = np.random.default_rng(seed).normal(0, 0.01, size=(500, 50))
        noise_best.append(deflated_sharpe(x).dsr)
        # the undeflated PSR of the winner is high: selection bias at work
        assert deflated_sharpe(x, n_trials=1, var_sharpe=0.0).dsr > deflated_sharpe(x).dsr
    assert np.mean(np.array(noise_best) > 0.95) <= 0.1
    edge = np.random.default_rng(99).normal(0, 0.01, size=(500, 50))
    edge[:, 17] += 0.003  # per-observation Sharpe 0.3: about 4 standard errors above SR* of 50 noise trials
    result = deflated_sharpe(pd.DataFrame(edge, columns=[f"cfg{j}" for j in range(50)]))
    assert result.best == "cfg17"
    assert result.dsr > 0.99


def test_deflated_sharpe_errors():
    with pytest.raises(ValueError, match=r"returns: expected finite values, got nan at row 0, column 1"):
        deflated_sharpe(np.array([[0.1, np.nan], [0.2, 0.1], [0.0, 0.1], [0.1, 0.3]]))
    with pytest.raises(ValueError, match="at least 4 observations"):
        deflated_sharpe(np.ones((3, 2)))
    with pytest.raises(ValueError, match="non-zero variance"):
        deflated_sharpe(np.ones((10, 2)))
    with pytest.raises(ValueError, match="n_trials"):
        deflated_sharpe(heavy_tailed(0, 10, 2), n_trials=0)
    with pytest.raises(ValueError, match="var_sharpe"):
        deflated_sharpe(heavy_tailed(0, 10, 2), var_sharpe=-1.0)
    with pytest.raises(ValueError, match=r"returns: expected shape \(n,\) or \(n, m\), got shape \(2, 2, 2\)"):
        deflated_sharpe(np.zeros((2, 2, 2)))
    assert np.isnan(deflated_sharpe_row(np.ones((3, 2)))).all()
    with pytest.raises(ValueError, match="returns_2d"):
        deflated_sharpe_row(np.array([[np.inf, 0.0]] * 5))


# ---------------------------------------------------------------- PBO: purgedcv as oracle


@pytest.mark.parametrize(
    ("seed", "n_obs", "n_cols", "n_splits"),
    [(0, 240, 10, 8), (1, 203, 7, 6), (2, 500, 25, 10), (3, 37, 2, 4)],
)
def test_pbo_matches_purgedcv(seed, n_obs, n_cols, n_splits):
    x = heavy_tailed(seed, n_obs, n_cols)
    x[:, 0] += 0.001
    ours = pbo(x, n_splits=n_splits)
    oracle = purgedcv.probability_of_backtest_overfitting(x.T, n_splits=n_splits)  # (n_configs, n_obs)
    assert ours.pbo == oracle.pbo
    assert ours.n_combinations == oracle.n_combos
    np.testing.assert_allclose(ours.logits, oracle.logits, rtol=1e-12)
    np.testing.assert_allclose(ours.is_performance, oracle.is_oos_performance[:, 0], rtol=1e-9)
    np.testing.assert_allclose(ours.oos_performance, oracle.is_oos_performance[:, 1], rtol=1e-9)
    assert ours.slope == pytest.approx(oracle.slope, rel=1e-8)


def test_pbo_mean_metric_and_callable_metric_match_purgedcv():
    x = heavy_tailed(8, 160, 6)
    oracle = purgedcv.probability_of_backtest_overfitting(x.T, n_splits=8, metric=lambda r: float(np.mean(r)))
    for metric in ("mean", lambda block: block.mean(axis=0)):
        ours = pbo(x, n_splits=8, metric=metric)
        assert ours.pbo == oracle.pbo
        np.testing.assert_allclose(ours.logits, oracle.logits, rtol=1e-12)
        np.testing.assert_allclose(ours.oos_performance, oracle.is_oos_performance[:, 1], rtol=1e-9)


def test_pbo_constant_configuration_scores_zero_like_purgedcv():
    x = heavy_tailed(9, 120, 5)
    x[:, 3] = 0.0
    ours = pbo(x, n_splits=6)
    oracle = purgedcv.probability_of_backtest_overfitting(x.T, n_splits=6)
    assert ours.pbo == oracle.pbo
    np.testing.assert_allclose(ours.logits, oracle.logits, rtol=1e-12)


def test_pbo_accepts_dataframes():
    x = heavy_tailed(10, 200, 4)
    frame = pd.DataFrame(x, columns=pd.MultiIndex.from_product([["a", "b"], [1, 2]]))
    assert pbo(frame, n_splits=4).pbo == pbo(x, n_splits=4).pbo


# ---------------------------------------------------------------- PBO: constructed cases


def test_pure_noise_gives_pbo_near_one_half():
    rng = np.random.default_rng(2024)
    values = [pbo(rng.normal(0, 0.01, size=(400, 20)), n_splits=8).pbo for _ in range(40)]
    assert 0.4 < np.mean(values) < 0.6


def test_one_real_edge_among_noise_gives_pbo_near_zero():
    rng = np.random.default_rng(7)
    x = rng.normal(0, 0.01, size=(1000, 20))
    x[:, 5] += 0.0015  # per-observation Sharpe 0.15
    result = pbo(x, n_splits=10)
    assert result.pbo < 0.05
    assert result.prob_oos_loss < 0.05
    assert (result.logits > 2).all()  # the edge column wins in sample and ranks first out of sample everywhere


def test_selection_that_always_picks_the_out_of_sample_loser_gives_pbo_one():
    """Columns with zero full-sample mean: in-sample mean = -out-of-sample mean, so the IS winner is the OOS loser."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.01, size=(160, 9))
    x -= x.mean(axis=0)
    result = pbo(x, n_splits=8, metric="mean")
    assert result.pbo == 1.0
    np.testing.assert_allclose(result.logits, math.log((1 / 10) / (9 / 10)))
    assert result.slope < 0


def test_pbo_is_deterministic():
    x = heavy_tailed(11, 300, 12)
    a, b = pbo(x, n_splits=8), pbo(x, n_splits=8)
    assert a.pbo == b.pbo
    np.testing.assert_array_equal(a.logits, b.logits)


def test_pbo_errors():
    x = heavy_tailed(12, 40, 3)
    with pytest.raises(ValueError, match="n_splits: expected an even integer >= 2, got 5"):
        pbo(x, n_splits=5)
    with pytest.raises(ValueError, match="n_splits: expected an even integer >= 2, got 0"):
        pbo(x, n_splits=0)
    with pytest.raises(ValueError, match="at least 2 configurations"):
        pbo(x[:, :1], n_splits=4)
    with pytest.raises(ValueError, match=r"returns: expected at least 2 observations per block \(16 rows"):
        pbo(x[:6], n_splits=8)
    with pytest.raises(ValueError, match="returns: expected finite values, got nan"):
        pbo(np.where(x > 0.01, np.nan, x), n_splits=4)
    with pytest.raises(ValueError, match=r"metric: expected one of 'sharpe', 'mean', got 'sortino'"):
        pbo(x, n_splits=4, metric="sortino")
    with pytest.raises(ValueError, match=r"metric: expected 3 finite scores"):
        pbo(x, n_splits=4, metric=lambda block: block.mean())
