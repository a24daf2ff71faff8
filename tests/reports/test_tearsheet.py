"""quantstats tear sheets: the engine's Sharpe on three clocks, sections left out with a reason, no noise."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import sys
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from signalbench import backtest, load_lobster
from signalbench.reports.clock import clock_returns
from signalbench.reports.html import build_report
from signalbench.reports.tearsheet_parts import FONT
from signalbench.reports.tearsheets import load_quantstats, render_tearsheet, tearsheet, tearsheet_filename
from tests.conftest import require_module

qs = require_module("quantstats", extra="reports")


def _momentum_backtest(price: pd.Series, **kw):
    """A causal rule (sign of the last price change) and buy-and-hold, priced with a fee."""
    pos = np.sign(price.diff().fillna(0.0).to_numpy())
    frame = pd.DataFrame({"momentum": pos, "buy_and_hold": np.ones(len(price))}, index=price.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtest(price, frame, fee_bps=0.2, benchmarks=["buy_and_hold"], **kw)


def _walk(index: pd.DatetimeIndex, seed: int, vol: float) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, len(index)))), index=index)


def _minutes(days: int) -> pd.DatetimeIndex:
    out = [pd.date_range(f"{d} 09:30", f"{d} 16:00", freq="min") for d in pd.bdate_range("2024-03-04", periods=days)]
    return out[0].append(out[1:])


def _daily() -> pd.Series:
    return _walk(pd.bdate_range("2021-01-04", periods=800), 1, 0.01)


@pytest.fixture(scope="module")
def amzn_mid(shared_data):
    book = load_lobster(shared_data / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip")
    book = book[book["ask_price_1"].notna() & book["bid_price_1"].notna()]
    return (book["ask_price_1"] + book["bid_price_1"]) / 2


class _Page(HTMLParser):
    """The key-metrics rows, the left-out sections, the images and every link of a tear sheet."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.omitted: list[str] = []
        self.imgs: list[str] = []
        self._table = self._cell = None
        self._row: list[str] = []
        self._in_li = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id")
        elif tag == "tr":
            self._row = []
        elif tag == "td":
            self._row.append("")
            self._cell = True
        elif tag == "li":
            self.omitted.append("")
            self._in_li = True
        elif tag == "img":
            self.imgs.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "tr" and self._table == "key-metrics" and self._row:
            self.rows[self._row[0]] = self._row[1:]
        elif tag == "td":
            self._cell = None
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._cell:
            self._row[-1] += data
        if self._in_li:
            self.omitted[-1] += data


def _row(page: _Page, start: str) -> list[str]:
    hits = [v for k, v in page.rows.items() if k.startswith(start)]
    assert len(hits) == 1, (start, list(page.rows))
    return hits[0]


def _sheet(res, column="momentum") -> _Page:
    html = render_tearsheet(res.returns, column, "buy_and_hold", mode=res.mode)
    assert "Strategy" not in html  # the column is named after itself
    return _Page(html)


@pytest.mark.parametrize("kind", ["daily bars", "1-minute bars", "LOBSTER event time"])
def test_quantstats_sharpe_equals_the_engines(kind, request):
    if kind == "daily bars":
        price = _daily()
    elif kind == "1-minute bars":
        price = _walk(_minutes(3), 2, 3e-4)
    else:
        price = request.getfixturevalue("amzn_mid")
    res = _momentum_backtest(price)
    cr = clock_returns(res.returns, None, res.mode)
    assert cr.periods_per_year == res.periods_per_year
    assert cr.resampled == (kind == "LOBSTER event time")
    for col in res.returns.columns:
        theirs = qs.stats.sharpe(cr.returns[col], periods=cr.periods_per_year)
        assert theirs == pytest.approx(res.stats.loc["sharpe", col], rel=1e-9)
    html = render_tearsheet(res.returns, "momentum", "buy_and_hold", mode=res.mode)
    page = _Page(html)
    ours = res.stats["momentum"]
    assert _row(page, "Sharpe")[0] == f"{ours['sharpe']:.3f}"
    assert _row(page, "Max drawdown")[0] == f"{qs.stats.max_drawdown(cr.returns['momentum']):.3%}"
    if cr.resampled:  # drawdowns on the clock miss dips within a minute: the page gives the engine's, from every event
        assert f"the deepest drawdown is {ours['max_drawdown']:.3%}" in html
    else:
        assert _row(page, "Max drawdown")[0] == f"{ours['max_drawdown']:.3%}"


def test_an_explicit_periods_per_year_is_kept():
    res = _momentum_backtest(_walk(_minutes(2), 3, 3e-4), periods_per_year=1000.0)
    cr = clock_returns(res.returns, 1000.0, res.mode)
    assert cr.periods_per_year == 1000.0 and cr.rule == "explicit"
    theirs = qs.stats.sharpe(cr.returns["momentum"], periods=1000.0)
    assert theirs == pytest.approx(res.stats.loc["sharpe", "momentum"], rel=1e-9)


def test_one_day_of_minutes_leaves_daily_sections_out_and_says_why():
    res = _momentum_backtest(_walk(_minutes(1), 4, 3e-4))
    page = _sheet(res)
    assert not any(k.startswith(("CAGR", "Calmar")) for k in page.rows)
    assert not any("daily" in k.lower() for k in page.rows)  # per-minute figures are not called daily
    assert _row(page, "Expected return per 1-minute bar")
    left_out = " ".join(page.omitted)
    for section in ("CAGR and Calmar", "Monthly returns heat map", "Rolling volatility", "Year-over-year", "Daily"):
        assert section in left_out
    assert "0.00" in left_out and "of a year" in left_out


def test_expected_daily_return_compounds_each_calendar_day():
    res = _momentum_backtest(_walk(_minutes(3), 5, 3e-4))
    page = _sheet(res)
    r = res.returns["momentum"]
    daily = [np.prod(1.0 + r[r.index.normalize() == d].to_numpy()) - 1.0 for d in r.index.normalize().unique()]
    expected = np.prod(1.0 + np.array(daily)) ** (1.0 / 3.0) - 1.0
    assert _row(page, "Expected daily return (3 calendar days")[0] == f"{expected:.3%}"


def test_three_years_of_daily_bars_fill_every_section():
    res = _momentum_backtest(_daily())
    html = render_tearsheet(res.returns, "momentum", "buy_and_hold")
    page = _Page(html)
    # quantstats' CAGR with the engine's periods per year is the engine's compounded annual return
    assert _row(page, "CAGR")[0] == f"{res.stats.loc['ann_return_compound', 'momentum']:.3%}"
    for title in ("Monthly returns (%)", "Returns per year", "Rolling Sharpe (6 months)", "Daily returns"):
        assert f"<h2>{title}" in html
    assert "Expected daily" not in html  # the bars are days already
    assert _row(page, "Expected monthly return")
    for uri in page.imgs:
        from PIL import Image

        img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert img.size[0] > 100 and img.size[1] > 100


def test_no_noise_reaches_the_user_and_no_setting_changes(capfd):
    import matplotlib

    res = _momentum_backtest(_walk(_minutes(2), 6, 3e-4))
    filters, rc = list(warnings.filters), dict(matplotlib.rcParams)
    capfd.readouterr()
    render_tearsheet(res.returns, "momentum", "buy_and_hold")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert warnings.filters == filters
    assert dict(matplotlib.rcParams) == rc


def test_tearsheet_of_a_backtest_result(tmp_path):
    res = _momentum_backtest(_walk(_minutes(1), 7, 3e-4))
    path = tearsheet(res, tmp_path / "m.html", "momentum")
    html = path.read_text()
    assert "buy_and_hold (benchmark)" in html and 'src="http' not in html and "<script" not in html
    with pytest.raises(ValueError, match=r"column: expected a column .* got 'momentun' \(did you mean 'momentum'"):
        tearsheet(res, tmp_path / "x.html", "momentun")
    bare = backtest(np.linspace(100, 101, 200), np.ones(200), periods_per_year=252)
    with pytest.raises(ValueError, match="result: expected a backtest of pandas input"):
        tearsheet(bare, tmp_path / "y.html", 0)
    assert not (tmp_path / "x.html").exists()


def test_returns_without_timestamps_are_named():
    frame = pd.DataFrame({"a": np.zeros(5)})
    with pytest.raises(ValueError, match="returns: expected a DatetimeIndex"):
        render_tearsheet(frame, "a", None)


def test_file_names_are_safe_and_keep_the_column():
    assert tearsheet_filename("lstm:threshold(tuned)") == "lstm_threshold_tuned.html"
    assert tearsheet_filename("m:threshold(enter=0.4, exit=0.2)") == "m_threshold_enter_0.4_exit_0.2.html"
    assert tearsheet_filename("-rf *") == "rf.html"
    assert tearsheet_filename("a/b\\c") == "a_b_c.html"
    assert tearsheet_filename("::") == "column.html"


def test_run_folder_tear_sheets_are_linked_and_carry_the_run_sharpe(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    models = [c for c in metrics["columns"] if c not in metrics["benchmarks"]]
    html = (tiny_run / "report.html").read_text()
    for col in models:
        path = tiny_run / "tearsheets" / tearsheet_filename(col)
        page = _Page(path.read_text())
        sharpe = metrics["columns"][col]["sharpe"]
        assert _row(page, "Sharpe")[0] == ("—" if sharpe is None else f"{sharpe:.3f}")
        assert re.fullmatch(r"[A-Za-z0-9._+-]+", path.name)  # nothing a shell would read specially
        assert re.search(rf'<a href="tearsheets/{re.escape(path.name)}">{re.escape(col)}</a>', html)
    assert sorted(p.name for p in (tiny_run / "tearsheets").iterdir()) == sorted(tearsheet_filename(c) for c in models)


def test_report_builds_without_quantstats_and_says_so(tiny_run, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    monkeypatch.setitem(sys.modules, "quantstats", None)  # import quantstats now raises ImportError
    assert load_quantstats() is None
    html = build_report(copy).read_text()
    assert "tear sheets need the reports extra" in html and 'href="tearsheets/' not in html


def test_yearly_bars_are_labelled_with_their_own_year():
    from signalbench.reports.tearsheet_parts import _yearly

    r = _daily().pct_change().fillna(0.0).rename("m")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantstats' own tick labelling warns
        fig = _yearly(qs, r, (r * 0.5).rename("b"), {"fontname": FONT, "show": False})
    ax = fig.axes[0]
    labels = {round(t): lab.get_text() for t, lab in zip(ax.get_xticks(), ax.get_xticklabels())}
    for bar in ax.patches:  # every bar stands on the tick of its own year
        year = labels[round(bar.get_x() + bar.get_width() / 2)]
        assert year in {"2021", "2022", "2023", "2024"}
    assert sorted(labels.values()) == [str(y) for y in sorted(set(r.index.year))]


def test_percent_axes_are_exact_below_one_percent():
    from matplotlib.ticker import PercentFormatter

    from signalbench.reports.tearsheet_parts import _png

    idx = pd.date_range("2024-03-04 09:30", periods=300, freq="min")
    r = pd.Series(np.random.default_rng(8).normal(0.0, 2e-4, len(idx)), idx, name="m")
    fig = qs.plots.drawdown(r, fontname=FONT, show=False, subtitle=False)
    assert _png(fig).startswith("data:image/png;base64,")
    axis = fig.axes[0].yaxis
    assert isinstance(axis.get_major_formatter(), PercentFormatter)
    labels = [axis.get_major_formatter()(t) for t in axis.get_ticklocs()]
    assert len(set(labels)) == len(labels)  # quantstats' own formatter gave "-0%" for every tick


def test_trading_days_resample_adds_no_empty_day():
    from quantstats._compat import safe_resample

    from signalbench.reports.tearsheet_parts import trading_days

    idx = pd.bdate_range("2024-01-01", periods=40).delete([7, 8])  # weekends and two holidays missing
    d = pd.Series(np.arange(1.0, 41.0)[: len(idx)], idx)
    out = safe_resample(d, trading_days(idx), "sum")
    assert list(out.index) == list(idx) and list(out) == list(d)


FRESH = """
import sys, warnings, matplotlib, numpy as np, pandas as pd
from signalbench.reports.tearsheets import render_tearsheet  # imports scipy, which adds filters of its own
assert "quantstats" not in sys.modules
filters, family = list(warnings.filters), list(matplotlib.rcParams["font.family"])
idx = pd.date_range("2024-03-04 09:30", periods=200, freq="min")
r = pd.DataFrame({"m": np.random.default_rng(0).normal(0, 1e-3, 200)}, index=idx)
html = render_tearsheet(r, "m", None)
assert warnings.filters == filters, "warning filters changed"
assert list(matplotlib.rcParams["font.family"]) == family, matplotlib.rcParams["font.family"]
"""


def test_first_use_in_a_fresh_interpreter_is_silent_and_leaves_the_font_alone():
    """quantstats sets matplotlib's global font to Arial when imported: our first import of it must undo that."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "PYTHONWARNINGS": ""}
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_a_run_without_timestamps_gets_a_reason_instead_of_invented_dates(tiny_run, tmp_path):
    from signalbench.reports.tearsheets import build_tearsheets

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    returns = pd.read_parquet(copy / "returns.parquet")
    returns["timestamp"] = np.arange(len(returns))  # bars without a clock: row numbers, not nanoseconds since 1970
    returns.to_parquet(copy / "returns.parquet")
    sheets = build_tearsheets(copy)
    assert sheets["sheets"] and all(s["href"] is None for s in sheets["sheets"])
    assert all("returns: expected a DatetimeIndex" in s["error"] for s in sheets["sheets"])
    html = build_report(copy).read_text()
    assert "no tear sheet (returns: expected a DatetimeIndex" in html
    with pytest.raises(TypeError, match="returns: expected a pandas DataFrame"):
        render_tearsheet(returns["row"], "row")
