"""The uncertainty beside report.html's headline figures: Mertens' standard error, the block bootstrap, the marks."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from signalbench.reports.uncertainty import block_bootstrap_sum, sharpe_standard_error


def test_sharpe_standard_error_is_lo_for_normal_returns_and_grows_with_fat_tails():
    assert sharpe_standard_error(0.0, 400, 0.0, 3.0) == pytest.approx(1 / 20)  # Lo 2002 at SR = 0: 1/sqrt(T)
    assert sharpe_standard_error(0.5, 100, 0.0, 3.0) == pytest.approx(np.sqrt(1.125 / 100))
    assert sharpe_standard_error(0.5, 100, 0.0, 9.0) > sharpe_standard_error(0.5, 100, 0.0, 3.0)
    assert sharpe_standard_error(0.5, 100, -1.0, 3.0) > sharpe_standard_error(0.5, 100, 1.0, 3.0)
    assert np.isnan(sharpe_standard_error(0.5, 1, 0.0, 3.0))


def test_sharpe_standard_error_matches_the_spread_of_simulated_sharpes():
    rng = np.random.default_rng(1)
    draws = rng.normal(0.1, 1.0, size=(4000, 250))
    sharpes = draws.mean(axis=1) / draws.std(axis=1)
    assert sharpe_standard_error(0.1, 250, 0.0, 3.0) == pytest.approx(sharpes.std(), rel=0.05)


def test_block_bootstrap_is_seeded_and_has_the_width_of_a_sum_of_iid_returns():
    r = np.random.default_rng(2).normal(0.0, 1e-3, 20_000)
    lo, hi = block_bootstrap_sum(r)
    assert (lo, hi) == block_bootstrap_sum(r)  # deterministic
    assert lo < r.sum() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * 1e-3 * np.sqrt(r.size), rel=0.15)
    assert block_bootstrap_sum(np.zeros(50)) == (0.0, 0.0)


def test_report_marks_the_figures_whose_interval_holds_zero(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    html = (tiny_run / "report.html").read_text()
    body = re.search(r'id="uncertainty-table">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", body):
        cells = re.findall(r"<td( data-ci=\"holds-zero\")?>(.*?)</td>", tr)
        rows[cells[0][1]] = cells
    assert set(rows) == set(metrics["columns"])
    for col, cells in rows.items():
        m = metrics["columns"][col]
        sharpe, se, ci, bars = cells[1][1], cells[2][1], cells[3][1], cells[4][1]
        assert int(bars) == m["clock_bars"]
        if m["sharpe"] is None:
            assert sharpe == "—" and not cells[1][0]
            continue
        assert float(sharpe) == pytest.approx(m["sharpe"], abs=0.005)
        lo, hi = (float(v) for v in ci.strip("[]").split(","))
        assert lo == pytest.approx(m["sharpe"] - 1.96 * float(se), abs=0.02)
        assert bool(cells[1][0]) == (lo <= 0 <= hi)
        table = re.search(r'class="rowname">sharpe</td>(.*?)</tr>', html).group(1)
        assert table.count('data-ci="holds-zero"') == sum(1 for c in rows.values() if c[1][0])
    assert "trials" in html and 'href="#reading-deflated"' in html and 'id="reading-deflated"' in html
