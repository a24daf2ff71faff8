"""report.html of a tiny synthetic run: self-contained, one column per model x strategy, audit banner, CLI rebuild."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from signalbench.cli import main
from signalbench.experiment import compare
from signalbench.reports.charts import DETAIL_VALUES, FULL_VALUES, OVERVIEW_POINTS, equity_charts
from signalbench.reports.html import build_report


class _Page(HTMLParser):
    """Collects the header cells of the comparison table, every img src and every link/script src."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.imgs: list[str] = []
        self.external: list[str] = []
        self._in_th = False
        self._in_metrics = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "metrics":
            self._in_metrics = True
        if tag == "th" and self._in_metrics:
            self._in_th = True
            self.headers.append("")
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("link", "script", "iframe") and (a.get("src") or a.get("href")):
            self.external.append(a.get("src") or a.get("href"))

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False
        if tag == "thead":
            self._in_metrics = False

    def handle_data(self, data):
        if self._in_th:
            self.headers[-1] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture
def run_dir(tiny_run):
    return tiny_run


def test_run_writes_a_self_contained_report(run_dir):
    html = (run_dir / "report.html").read_text()
    page = parse(html)
    assert page.external == []
    assert "<link" not in html and 'src="http' not in html and "url(" not in html
    assert len(page.imgs) >= 6
    assert all(src.startswith("data:image/png;base64,") for src in page.imgs)


def test_one_table_column_per_model_and_strategy_benchmarks_last(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    page = parse((run_dir / "report.html").read_text())
    header = page.headers[1:]
    assert sorted(header) == sorted(metrics["columns"])
    for model in ("lstm", "majority", "logistic"):
        assert f"{model}:sign" in header and f"{model}:threshold(tuned)" in header
    assert header[-3:] == metrics["benchmarks"]


def test_best_value_per_row_is_the_highlighted_one(run_dir):
    table = pd.read_csv(run_dir / "metrics.csv", index_col=0)
    html = (run_dir / "report.html").read_text()
    bench = {"oracle", "naive_oracle", "buy_and_hold"}
    models = [c for c in table.columns if c not in bench]
    for row, pick in (("sharpe", max), ("log_loss", min)):
        values = pd.to_numeric(table.loc[row, models], errors="coerce").dropna()
        best = pick(values.to_numpy())
        tr = re.search(rf'<tr><td title="[^"]*" class="rowname">{row}</td>(.*?)</tr>', html).group(1)
        highlighted = [float(v) for v in re.findall(r'<td class="best" data-v="([^"]+)"', tr)]
        assert highlighted and all(v == pytest.approx(best, rel=1e-12) for v in highlighted)


def test_audit_finding_gets_a_banner_naming_the_column(run_dir, tmp_path):
    assert "audit: clean" in (run_dir / "report.html").read_text()
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    finding = {"check": "too_good", "subject": "lstm:sign", "message": "net return above the oracle's", "figures": {}}
    audit = json.loads((copy / "audit.json").read_text())
    audit.update(clean=False, findings=[finding], checks={**audit["checks"], "too_good": "1 finding(s)"})
    (copy / "audit.json").write_text(json.dumps(audit))
    html = build_report(copy, tearsheets=False).read_text()
    assert "LEAKAGE AUDIT FINDING" in html and "<code>lstm:sign</code>" in html
    assert "audit: clean" not in html


def test_returns_hold_gross_returns_consistent_with_the_breakeven(run_dir):
    returns = pd.read_parquet(run_dir / "returns.parquet")
    metrics = json.loads((run_dir / "metrics.json").read_text())["columns"]
    assert returns["price"].notna().all()
    for col, m in metrics.items():
        gross = returns[f"gross:{col}"].to_numpy()
        assert np.all(gross >= returns[col].to_numpy() - 1e-15)  # costs are never negative
        if m["turnover"]:
            assert 1e4 * gross.sum() / m["turnover"] == pytest.approx(m["breakeven_cost_bps"], rel=1e-9)


def test_cli_rebuilds_the_report_and_names_a_missing_folder(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").is_file()
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "nope" in capsys.readouterr().err
    (copy / "metrics.json").unlink()
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        build_report(copy)


def test_no_report_skips_the_file(tmp_path, tiny_config):
    out = tmp_path / "run"
    cfg = {**tiny_config, "models": [], "strategies": [{"rule": "sign"}]}
    compare(cfg, out=out, report=False)
    assert (out / "metrics.json").is_file() and not (out / "report.html").exists()
    assert not (out / "tearsheets").exists()
    with pytest.raises(TypeError, match="report"):
        compare(cfg, out=tmp_path / "r2", report="no")


def test_long_lines_are_downsampled_in_the_overview_and_full_only_under_the_cap():
    n = 200_000
    x = np.arange(n)
    rng = np.random.default_rng(0)
    returns = pd.DataFrame({c: rng.normal(0, 1e-4, n) for c in ("a", "oracle", "buy_and_hold")})
    returns.loc[123_457, "a"] = -0.5  # a crash the overview must keep
    charts = {c["id"]: c for c in equity_charts(returns, ["a", "oracle", "buy_and_hold"], x)}
    assert set(charts) == {"equity-oracles", "equity-models", "drawdown"}
    models = charts["equity-models"]
    assert [s["label"] for s in models["series"]] == ["a", "buy_and_hold"]
    assert [s["label"] for s in charts["equity-oracles"]["series"]] == ["oracle"]
    assert len(models["overview"][0]) <= OVERVIEW_POINTS + 4
    equity = np.cumprod(1 + returns["a"].to_numpy())
    assert min(models["overview"][1]) == pytest.approx(equity.min(), abs=1e-5)  # the crash's low is drawn
    assert max(models["overview"][1]) == pytest.approx(equity.max(), abs=1e-5)
    assert models["overview"][0][0] == 0 and models["overview"][0][-1] == n - 1
    assert n * 3 > FULL_VALUES and models["zoom"] == "detail"  # too long for every row: a finer selection
    assert len(models["overview"][0]) < len(models["full"][0]) <= DETAIL_VALUES // 3 + 4
    assert min(models["full"][1]) == pytest.approx(equity.min(), abs=1e-5)
    small = equity_charts(returns.iloc[:20_000], ["a"], x[:20_000])[0]
    assert small["id"] == "equity-models"
    assert small["full"][0] == list(range(20_000))
    assert small["full"][1] == pytest.approx(equity[:20_000], abs=1e-5)


def test_building_changes_no_global_matplotlib_setting(run_dir, tmp_path):
    import matplotlib

    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    build_report(copy)
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before


def test_a_broken_metrics_file_is_named(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "metrics.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"metrics.json: expected valid JSON"):
        build_report(copy)
    (copy / "metrics.json").write_text("[]")
    with pytest.raises(ValueError, match="metrics.json: expected an object, got"):
        build_report(copy)
    (copy / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match=r"metrics.json columns: expected a value \(the key is missing\)"):
        build_report(copy)
    assert (copy / "report.html").read_text() == (run_dir / "report.html").read_text()  # the old file is untouched


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table class="metrics" id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", body)]


def test_report_shows_what_tuning_picked_and_each_columns_exposure(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    html = (run_dir / "report.html").read_text()
    tuned = {c: m for c, m in metrics["columns"].items() if m.get("tuned")}
    rows = _table_rows(html, "tuned")
    assert sorted(r[0] for r in rows) == sorted(tuned) and len(tuned) == 3
    for col, fold, picked, net, tried in rows:
        choice = tuned[col]["chosen"][int(fold) - 1]
        table = tuned[col]["tuning"][int(fold) - 1]
        want = "flat" if choice == "flat" else ", ".join(f"{k}={v}" for k, v in choice.items())
        assert picked == want
        assert float(net.rstrip("%")) / 100 == pytest.approx(table["net_return"][table["chosen"].index(True)], abs=1e-6)
        assert int(tried) == len(table["candidate"])
    positions = pd.read_parquet(run_dir / "positions.parquet")
    shown = {r[0]: r for r in _table_rows(html, "exposure-table")}
    assert set(shown) == set(metrics["columns"])
    for col, (_, in_market, long, short, flat, per_day) in shown.items():
        p = positions[col]
        assert float(long.rstrip("%")) == pytest.approx(100 * (p > 0).mean(), abs=0.05)
        assert float(short.rstrip("%")) == pytest.approx(100 * (p < 0).mean(), abs=0.05)
        assert float(flat.rstrip("%")) == pytest.approx(100 * (p == 0).mean(), abs=0.05)
        assert float(in_market.rstrip("%")) == pytest.approx(100 * metrics["columns"][col]["exposure_time"], abs=0.05)
        days = positions["timestamp"].dt.date.nunique()
        assert float(per_day) == pytest.approx(metrics["columns"][col]["turnover"] / days, abs=0.005)


def test_trades_are_rebuilt_and_add_up_to_each_columns_net_return(run_dir, tmp_path):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    html = (run_dir / "report.html").read_text()
    models = [c for c in metrics["columns"] if c not in metrics["benchmarks"]]
    found = dict(re.findall(r'data-column="([^"]+)"><summary>.*?: (\d+) round trips?,', html))
    assert set(found) == set(models)
    for col in models:
        assert int(found[col]) == metrics["columns"][col]["round_trips"]
        block = re.search(rf'data-column="{re.escape(col)}">(.*?)</details>', html, re.S).group(1)
        pnl = [float(v) / 100 for v in re.findall(r"<td[^>]*>(-?[0-9.]+)%</td></tr>", block)]
        assert len(pnl) == int(found[col])  # the tiny run has fewer trades than shown per column
        assert sum(pnl) == pytest.approx(metrics["columns"][col]["total_return_additive"], abs=5e-7 * (1 + len(pnl)))
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    positions = pd.read_parquet(copy / "positions.parquet")
    positions[models] = positions[models].shift(1).fillna(0.0)  # no longer what the run traded
    positions.to_parquet(copy / "positions.parquet")
    build_report(copy, tearsheets=False)
    assert "No trade table: the positions, delayed, do not reproduce" in (copy / "report.html").read_text()


def test_chart_times_are_unix_seconds_whatever_the_timestamp_unit():
    returns = pd.DataFrame({"a": [0.0, 0.01, -0.01]})
    for unit in ("ns", "us", "ms"):
        x = pd.to_datetime(["2024-01-05 10:00:00.0", "2024-01-05 10:00:01.5", "2024-01-06 09:30:00.0"]).as_unit(unit)
        chart = equity_charts(returns, ["a"], x.to_numpy())[0]
        assert chart["time"] is True
        assert chart["overview"][0] == [1704448800.0, 1704448801.5, 1704533400.0], unit


def test_the_costs_fact_of_a_linear_run_leaves_out_the_order_book_settings():
    from signalbench.reports.html import _costs

    linear = {"fee_bps": 0.05, "delay": 0, "model": "linear", "unfilled": "partial", "penalty_bps": 0.0, "size": None}
    assert _costs({"costs": linear}) == "fee_bps 0.05, delay 0"
    book = {**linear, "model": "book", "size": 100}
    assert _costs({"costs": book}) == "fee_bps 0.05, delay 0, model book, unfilled partial, penalty_bps 0.0, size 100"
