"""report.html of a multi-piece run: the symbol x column and day x column tables, the pooled figures, the daily equity,
the missing pieces; a single-piece run's report without any of them; damaged blocks named."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

from signalbench._runfiles import RunFolderError
from signalbench.reports.across import across_pieces, rests_on
from signalbench.reports.html import build_report
from tests.reports.conftest import DAYS, POOLED_NOTE, SYMBOLS


class _Tables(HTMLParser):
    """Every table with an id: its rows (thead, tbody, tfoot in order) as lists of (text, attributes) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, dict]]]] = {}
        self._table: str | None = None
        self._cell: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell = ["", a]
            self.tables[self._table][-1].append(self._cell)

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        if tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def tables(html: str) -> dict[str, list[list[tuple[str, dict]]]]:
    parser = _Tables()
    parser.feed(html)
    return {k: [[(t, a) for t, a in row] for row in rows] for k, rows in parser.tables.items()}


def _metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def _order(html: str) -> list[str]:
    """The comparison table's columns, in its order (models, then the benchmarks)."""
    return [t for t, _ in tables(html)["metrics"][0][1:]]


def _charts(html: str) -> dict[str, dict]:
    blocks = re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', html, re.S)
    return {c["id"]: c for c in map(json.loads, blocks)}


def test_a_single_piece_report_has_no_across_pieces_section(tiny_run):
    html = (tiny_run / "report.html").read_text()
    assert 'id="pieces"' not in html and "Results across pieces" not in html
    assert "equity-daily" not in _charts(html)


def test_symbol_and_day_tables_show_every_figure_with_what_it_rests_on(pieces_run):
    metrics = _metrics(pieces_run)
    html = (pieces_run / "report.html").read_text()
    found = tables(html)
    columns = _order(html)
    assert sorted(columns) == sorted(metrics["columns"])
    for block, names in (("per_symbol", SYMBOLS), ("per_day", DAYS)):
        for key, fmt in (("net_return", "{:.4%}"), ("signal_efficiency", "{:.3f}"), ("macro_f1", "{:.4f}")):
            rows = found[f"{block}-{key}"]
            head = [t for t, _ in rows[0]]
            assert head[2:] == columns and head[1] == "rests on"
            assert [r[0][0] for r in rows[1:]] == [*names, "pooled"]  # one row per symbol (day), then pooled
            for row, name in zip(rows[1:], [*names, "pooled"]):
                source = metrics["pooled"] if name == "pooled" else metrics[block][name]
                for (text, attrs), col in zip(row[2:], columns):
                    value = source[col][key]
                    assert text == ("—" if value is None else fmt.format(value)), (block, key, name, col)
                    counts = source[col]["rests_on"]
                    words = ", ".join(f"{v:,} {k[:-1] if v == 1 else k}" for k, v in counts.items())
                    assert attrs["title"] == f"rests on {words}"
                assert row[1][0] == words  # every column rests on the same pieces here: said once per row
    day_rests = [r[1][0] for r in found["per_day-net_return"][1:4]]
    assert day_rests == ["2 symbols, 2,000 rows", "2 symbols, 2,000 rows", "1 symbol, 1,000 rows"]


def test_benchmarks_have_no_macro_f1_and_stay_marked(pieces_run):
    metrics = _metrics(pieces_run)
    rows = tables((pieces_run / "report.html").read_text())["per_symbol-macro_f1"]
    bench = [t for t, a in rows[0] if a.get("class") == "bench"]
    assert bench == metrics["benchmarks"]
    for row in rows[1:]:
        cells = dict(zip([t for t, _ in rows[0]], [t for t, _ in row]))
        assert all(cells[b] == "—" for b in bench)
        assert all(cells[c] != "—" for c in metrics["columns"] if c not in bench)


def test_pooled_table_shows_the_daily_clock_figures_and_its_note(pieces_run):
    metrics = _metrics(pieces_run)
    html = (pieces_run / "report.html").read_text()
    rows = tables(html)["pooled-table"]
    by_name = {r[0][0]: [t for t, _ in r[1:]] for r in rows[1:]}
    columns = _order(html)
    assert by_name["net_return"] == [f"{metrics['pooled'][c]['net_return']:.4%}" for c in columns]
    assert by_name["max_drawdown"] == [f"{metrics['pooled'][c]['max_drawdown']:.3%}" for c in columns]
    assert "sharpe" not in by_name and "deflated_sharpe" not in by_name  # null everywhere: too few days
    assert "no column has sharpe, deflated_sharpe" in " ".join(html.split())
    assert "rests on" not in by_name  # the same for every column: said once, above the table
    assert "Every figure rests on 3 days, 2 symbols, 5,000 rows." in " ".join(html.split())
    assert POOLED_NOTE in html


def test_missing_pieces_are_listed_with_their_errors(pieces_run):
    html = (pieces_run / "report.html").read_text()
    rows = tables(html)["pieces-missing"]
    assert [t for t, _ in rows[1]] == [
        "GOOG",
        DAYS[-1],
        "fit",
        "lstm",
        "1",
        "ValueError: window: expected at least 4 rows, got 2",
    ]
    assert "1 piece task failed" in html
    assert "5 pieces tested (2 symbols x 3 days, 5,000 rows)" in " ".join(html.split())


def test_daily_pooled_equity_is_one_plus_the_running_sum_of_daily_returns(pieces_run):
    metrics = _metrics(pieces_run)
    chart = _charts((pieces_run / "report.html").read_text())["equity-daily"]
    assert chart["rows"] == len(DAYS) and chart["time"] is True
    assert chart["overview"][0] == [float(np.datetime64(d, "s").astype(np.int64)) for d in DAYS]
    labels = [s["label"] for s in chart["series"]]
    assert sorted(labels) == sorted(metrics["columns"])
    for label, line in zip(labels, chart["overview"][1:]):
        j = list(metrics["columns"]).index(label)
        # the fixture's returns are 0.001 j, null (no return that day), -0.0005 j
        assert line == pytest.approx([1 + 0.001 * j, 1 + 0.001 * j, 1 + 0.0005 * j])


def test_rests_on_reads_as_counts_with_units():
    assert rests_on({"days": 1, "rows": 1234}) == "1 day, 1,234 rows"
    assert rests_on({"symbols": 2, "days": 20, "rows": 99999}) == "2 symbols, 20 days, 99,999 rows"
    assert rests_on(None) == ""


def _copy_with(pieces_run, tmp_path, change):
    """A copy of the run whose metrics.json was changed by ``change``."""
    run = tmp_path / "run"
    shutil.copytree(pieces_run, run)
    metrics = _metrics(run)
    change(metrics)
    (run / "metrics.json").write_text(json.dumps(metrics))
    return run


def _damaged(pieces_run, tmp_path, change) -> str:
    with pytest.raises(RunFolderError) as info:
        build_report(_copy_with(pieces_run, tmp_path, change), tearsheets=False)
    return str(info.value)


def test_a_damaged_block_is_named(pieces_run, tmp_path):
    def text_figure(m):
        m["per_symbol"]["AMZN"]["buy_and_hold"]["net_return"] = "high"

    message = _damaged(pieces_run, tmp_path, text_figure)
    assert "per_symbol.AMZN.buy_and_hold.net_return: expected a number or null, got" in message

    def short_daily(m):
        m["daily"]["returns"]["oracle"] = [0.1]

    message = _damaged(pieces_run, tmp_path / "b", short_daily)
    assert "daily.returns['oracle']: expected one return per day of daily.index, got 1 values for 3 days" in message

    def no_error(m):
        del m["pieces"]["missing"][0]["error"]

    message = _damaged(pieces_run, tmp_path / "c", no_error)
    assert "pieces.missing[0].error: expected a value (the key is missing)" in message


def test_pooled_figures_resting_on_different_pieces_say_so_per_column():
    metrics = {
        "columns": {"a": {}, "b": {}},
        "benchmarks": [],
        "pooled": {
            "a": {"net_return": 0.01, "rests_on": {"days": 3, "rows": 30}},
            "b": {"net_return": 0.02, "rests_on": {"days": 2, "rows": 20}},
        },
    }
    view = across_pieces(metrics, ["a", "b"])
    assert view["pooled"]["rests_on"] == ["3 days, 30 rows", "2 days, 20 rows"]
    assert view["dims"] == [] and view["missing"] == []
    assert across_pieces({"columns": {"a": {}}, "benchmarks": []}, ["a"]) is None


def test_a_run_with_only_some_blocks_shows_those(pieces_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(pieces_run, run)
    metrics = _metrics(run)
    for block in ("pieces", "per_day", "pooled", "daily"):
        del metrics[block]
    (run / "metrics.json").write_text(json.dumps(metrics))
    build_report(run, tearsheets=False)
    html = (run / "report.html").read_text()
    found = tables(html)
    assert "per_symbol-net_return" in found and "per_day-net_return" not in found and "pooled-table" not in found
    assert [r[0][0] for r in found["per_symbol-net_return"][1:]] == list(SYMBOLS)  # no pooled row without pooled
    assert "does not list its tested pieces" in html and "pieces-missing" not in found
    assert "equity-daily" not in _charts(html)


def test_a_run_testing_one_day_draws_no_daily_curve_and_says_why(pieces_run, tmp_path):
    """One tested day is one point: no chart with a time axis around it, a note pointing to the tables instead."""

    def one_day(m: dict) -> None:
        m["daily"] = {"index": [DAYS[0]], "returns": {c: [v[0]] for c, v in m["daily"]["returns"].items()}}

    html = _changed(pieces_run, tmp_path, one_day)
    assert "equity-daily" not in _charts(html)
    assert 'id="no-equity-chart"' in html and "fewer than 2 days" in html
    full = (pieces_run / "report.html").read_text()
    assert "equity-daily" in _charts(full) and 'id="no-equity-chart"' not in full


def test_a_multi_piece_exposure_table_reads_every_tested_row_not_the_daily_means(pieces_run, tmp_path):
    """positions.parquet of a multi-piece run holds daily means: long/short/flat come from metrics.json's shares."""
    metrics = _metrics(pieces_run)
    col = next(iter(metrics["columns"]))
    shares = {"long_share": 0.125, "short_share": 0.25, "flat_share": 0.625, "exposure_time": 0.375, "turnover": 50.0}

    def with_shares(m: dict) -> None:
        m["columns"][col].update(shares)

    html = _changed(pieces_run, tmp_path, with_shares)
    rows = {r[0][0]: [t for t, _ in r[1:]] for r in tables(html)["exposure-table"][1:]}
    pieces = len(metrics["pieces"]["tested"])
    assert rows[col] == ["37.5%", "12.5%", "25.0%", "62.5%", f"{50.0 / pieces:.2f}"]
    assert f"{pieces} symbol-days tested" in html


def _changed(pieces_run, tmp_path, change) -> str:
    """report.html of a copy of the run whose metrics.json was changed by ``change`` (a valid change)."""
    return build_report(_copy_with(pieces_run, tmp_path, change), tearsheets=False).read_text()


def _with_piece_returns(pieces_run, tmp_path, symbols, rows_per_day=7, seed=0):
    """A copy of the run with a piece_returns.parquet of ``symbols`` x DAYS (rows shuffled), and that table."""
    import pandas as pd

    run = tmp_path / "with_pieces"
    shutil.copytree(pieces_run, run)
    metrics = _metrics(run)
    (run / "metrics.json").write_text(json.dumps({**metrics, "kind": "pieces"}))  # what a multi-piece run writes
    columns = list(metrics["columns"])
    rng = np.random.default_rng(seed)
    parts = []
    for symbol in symbols:
        for day in DAYS:
            stamps = pd.date_range(f"{day} 10:00", periods=rows_per_day, freq="37s")
            frame = pd.DataFrame({"symbol": symbol, "day": day, "timestamp": stamps})
            for c in columns:
                frame[c] = rng.normal(0, 0.05, rows_per_day)  # large enough that compounding would differ
            frame.loc[frame.index[2], columns[0]] = np.nan  # a row without a return counts as 0
            parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table.sample(frac=1.0, random_state=seed).to_parquet(run / "piece_returns.parquet")  # the file's order is not time
    return run, table, columns


def test_each_symbol_gets_its_intraday_equity_over_its_tested_rows_in_time_order(pieces_run, tmp_path):
    run, table, columns = _with_piece_returns(pieces_run, tmp_path, SYMBOLS)
    html = build_report(run, tearsheets=False).read_text()
    found = _charts(html)
    assert [k for k in found if k.startswith("equity-symbol-")] == ["equity-symbol-0", "equity-symbol-1"]
    for k, symbol in enumerate(sorted(SYMBOLS)):
        chart = found[f"equity-symbol-{k}"]
        assert symbol in chart["title"] and "3 days" in chart["title"]
        mine = table[table["symbol"] == symbol]  # built in day then time order above
        assert chart["rows"] == len(mine) and chart["time"] is True
        data = chart["full"] if chart["full"] is not None else chart["overview"]
        assert data[0] == [t.value / 1e9 for t in mine["timestamp"]]
        labels = [s["label"] for s in chart["series"]]
        assert "oracle" not in labels and "naive_oracle" not in labels
        assert set(labels) == {c for c in columns if c not in ("oracle", "naive_oracle")}
        for label, line in zip(labels, data[1:]):
            equity, expected_line = 1.0, []
            for v in mine[label]:
                equity += 0.0 if np.isnan(v) else v
                expected_line.append(equity)
            assert line == pytest.approx(expected_line, abs=1e-5)


def test_symbol_charts_stop_at_eight_and_say_how_many_are_left_out(pieces_run, tmp_path):
    symbols = [f"S{k:02d}" for k in range(10)]
    run, _, _ = _with_piece_returns(pieces_run, tmp_path, symbols, rows_per_day=3)
    html = build_report(run, tearsheets=False).read_text()
    ids = [k for k in _charts(html) if k.startswith("equity-symbol-")]
    assert len(ids) == 8
    assert "S07" in _charts(html)["equity-symbol-7"]["title"]
    assert "2 more symbol(s) have no intraday chart here" in html


def test_a_piece_returns_table_without_its_keys_is_named(pieces_run, tmp_path):
    run, table, _ = _with_piece_returns(pieces_run, tmp_path, SYMBOLS)
    table.drop(columns=["day"]).to_parquet(run / "piece_returns.parquet")
    with pytest.raises(RunFolderError, match=r"piece_returns\.parquet: expected columns symbol, day and timestamp"):
        build_report(run, tearsheets=False)
