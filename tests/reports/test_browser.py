"""report.html and a tear sheet in a real browser (Debian's chromium, driven by Playwright; nothing is downloaded).

Checks what a reader sees: no console error, every image decoded, one table column per model x strategy, no request
leaving the file, the sort keeping the benchmarks apart, a working link to a tear sheet. Full-page screenshots are
saved under ``tests/artifacts/`` (or ``$SIGNALBENCH_ARTIFACTS``) for a person to look at.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import require_module

sync_api = require_module("playwright.sync_api")

from signalbench.reports import charts  # noqa: E402
from signalbench.reports.html import build_report  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_IMAGES = "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"
_SVGS = (
    "Array.from(document.querySelectorAll('svg'))"
    ".map(s => {const r = s.getBoundingClientRect(); return [r.width, r.height]})"
)
_HEADER = "Array.from(document.querySelectorAll('#metrics thead th')).slice(1).map(th => th.textContent)"


def _artifacts() -> Path:
    root = Path(os.environ.get("SIGNALBENCH_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, args=ARGS, headless=True, viewport={"width": 1400, "height": 900}
        )
        yield context
        context.close()


class _Visit:
    """A page with every console error, page error and request that left the file recorded."""

    def __init__(self, context) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def check_loaded(self) -> None:
        self.page.wait_for_load_state("load")
        images = self.page.evaluate(_IMAGES)
        assert images, "no image on the page"
        bad = [alt for alt, complete, w, h in images if not (complete and w > 0 and h > 0)]
        assert bad == [], f"images not decoded: {bad}"
        assert all(w > 0 and h > 0 for w, h in self.page.evaluate(_SVGS))
        assert self.errors == [] and self.outside == []


def _expected_order(metrics: dict, row: str, descending: bool) -> list[str]:
    bench = metrics["benchmarks"]
    models = [c for c in metrics["columns"] if c not in bench]
    value = {c: metrics["columns"][c].get(row) for c in models}
    known = [c for c in models if value[c] is not None and not math.isnan(value[c])]
    unknown = [c for c in models if c not in known]
    return sorted(known, key=lambda c: value[c], reverse=descending) + unknown, bench


def test_report_in_chromium(browser, tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    visit = _Visit(browser)
    visit.page.goto((tiny_run / "report.html").as_uri())
    visit.check_loaded()
    header = visit.page.evaluate(_HEADER)
    assert len(header) == len(metrics["columns"]) and set(header) == set(metrics["columns"])
    marked = visit.page.evaluate(_HEADER.replace("thead th'", "thead th.bench'").replace(".slice(1)", ""))
    models = [c for c in metrics["columns"] if c not in metrics["benchmarks"]]
    assert marked == metrics["benchmarks"] and sorted(c for c in header if c not in marked) == sorted(models)
    visit.page.screenshot(path=str(_artifacts() / "report.png"), full_page=True)
    for descending in (True, False):  # first click: highest first; second click: reversed
        visit.page.click("#metrics td.rowname:text-is('sharpe')")
        header = visit.page.evaluate(_HEADER)
        models, bench = _expected_order(metrics, "sharpe", descending)
        values = [metrics["columns"][c]["sharpe"] for c in header[: len(models)]]
        expected = [metrics["columns"][c]["sharpe"] for c in models]
        assert values == expected and header[len(models) :] == bench
        row = visit.page.evaluate(
            "Array.from(document.querySelectorAll('#metrics tbody tr')).find(r => r.cells[0].textContent === 'sharpe')"
            ".cells.length"
        )
        assert row == len(header) + 1
    assert visit.errors == [] and visit.outside == []


def test_tear_sheet_in_chromium(browser, tiny_run):
    visit = _Visit(browser)
    visit.page.goto((tiny_run / "report.html").as_uri())
    link = visit.page.locator("#tearsheets a").first
    column = link.text_content()
    link.click()
    visit.page.wait_for_url("**/tearsheets/*.html")
    visit.check_loaded()
    assert visit.page.locator("h1").text_content() == f"tear sheet: {column}"
    cells = visit.page.evaluate(
        "Array.from(document.querySelectorAll('#key-metrics thead th')).map(t => t.textContent)"
    )
    assert cells == ["metric", column, "buy_and_hold (benchmark)"]
    visit.page.screenshot(path=str(_artifacts() / "tearsheet.png"), full_page=True)
    assert visit.errors == [] and visit.outside == []


_CHART = "(id) => {const u = window.signalbenchCharts[id]; return [u.scales.x.min, u.scales.x.max, u.data[0].length]}"


def test_charts_zoom_to_full_rows_and_the_legend_hides_a_line(browser, tiny_run, tmp_path, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    monkeypatch.setattr(charts, "OVERVIEW_POINTS", 60)  # the tiny run's 478 rows: an overview smaller than them
    build_report(run, tearsheets=False)
    visit = _Visit(browser)
    visit.page.goto((run / "report.html").as_uri())
    visit.page.wait_for_load_state("load")
    assert sorted(visit.page.evaluate("Object.keys(window.signalbenchCharts)")) == [
        "drawdown",
        "equity-models",
        "equity-oracles",
    ]
    data = json.loads(visit.page.locator("script.chart-data").nth(1).text_content())
    assert data["id"] == "equity-models" and data["full"] is not None
    lo, hi, shown = visit.page.evaluate(_CHART, "equity-models")
    assert shown == len(data["overview"][0]) < data["rows"]
    xs = data["full"][0]
    a, b = xs[len(xs) // 3], xs[len(xs) // 3 + 60]
    visit.page.evaluate(f"window.signalbenchCharts['equity-models'].setScale('x', {{min: {a}, max: {b}}})")
    visit.page.wait_for_function("window.signalbenchCharts['equity-models'].data[0].length === " + str(data["rows"]))
    zlo, zhi, _ = visit.page.evaluate(_CHART, "equity-models")
    assert (zlo, zhi) == (pytest.approx(a), pytest.approx(b)) and (zlo, zhi) != (lo, hi)
    visit.page.evaluate(f"window.signalbenchCharts['equity-models'].setScale('x', {{min: {lo!r}, max: {hi!r}}})")
    visit.page.wait_for_function("window.signalbenchCharts['equity-models'].data[0].length === " + str(shown))

    over = visit.page.locator("#drawdown .u-over")  # a drag zooms as a reader would
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    before = visit.page.evaluate(_CHART, "drawdown")
    y = box["y"] + box["height"] / 2
    visit.page.mouse.move(box["x"] + 0.3 * box["width"], y)
    visit.page.mouse.down()
    visit.page.mouse.move(box["x"] + 0.6 * box["width"], y, steps=5)
    visit.page.mouse.up()
    visit.page.wait_for_function(f"window.signalbenchCharts['drawdown'].scales.x.min > {before[0]!r}")
    after = visit.page.evaluate(_CHART, "drawdown")
    assert before[0] < after[0] < after[1] < before[1]

    label = data["series"][0]["label"]
    entry = visit.page.locator("#equity-models .u-legend tr.u-series").nth(1)
    assert label in entry.text_content()
    entry.locator("th").click()
    assert visit.page.evaluate("window.signalbenchCharts['equity-models'].series[1].show") is False
    assert "u-off" in entry.get_attribute("class")
    visit.page.screenshot(path=str(_artifacts() / "report-zoomed.png"), full_page=True)
    assert visit.errors == [] and visit.outside == []


_VISIBLE = (
    "Array.from(document.querySelectorAll('#metrics thead th')).slice(1)"
    ".filter(t => t.offsetParent).map(t => t.textContent)"
)
_EDGES = (
    "(() => {const box = document.querySelector('div.scroll').getBoundingClientRect();"
    " const row = document.querySelector('#metrics tbody tr:not(.group)');"
    " const first = row.cells[0].getBoundingClientRect();"
    " const last = row.cells[row.cells.length - 1].getBoundingClientRect();"
    " return [box.left, box.right, first.left, last.right]})()"
)


def test_table_keeps_names_and_benchmarks_in_view_and_filters_columns(browser, tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    visit = _Visit(browser)
    visit.page.set_viewport_size({"width": 700, "height": 900})  # narrow: the table must scroll sideways
    visit.page.goto((tiny_run / "report.html").as_uri())
    visit.page.wait_for_load_state("load")
    scroll = visit.page.locator("div.scroll")
    assert scroll.evaluate("d => d.scrollWidth > d.clientWidth")
    for to in (0, 10_000):
        scroll.evaluate(f"d => {{ d.scrollLeft = {to}; }}")
        left, right, first, last = visit.page.evaluate(_EDGES)
        assert first == pytest.approx(left, abs=2) and last == pytest.approx(right, abs=20)
    visit.page.fill("#column-filter", "threshold")
    shown = visit.page.evaluate(_VISIBLE)
    bench = metrics["benchmarks"]
    assert shown[-len(bench) :] == bench
    assert sorted(shown) == sorted([c for c in metrics["columns"] if "threshold" in c and c not in bench] + bench)
    visit.page.fill("#column-filter", "")
    assert len(visit.page.evaluate(_VISIBLE)) == len(metrics["columns"])
    assert visit.errors == [] and visit.outside == []


_CELLS = (
    "Array.from(document.querySelectorAll('#metrics tbody tr:not(.group)'))"
    ".map(r => [r.cells[0].textContent, Array.from(r.cells).slice(1).map(c => c.textContent)])"
)


def _shown(text: str) -> tuple[float, float]:
    """The number a cell shows and half a unit of its last digit (the rounding it may carry)."""
    pct = text.endswith("%")
    body = text.rstrip("%")
    decimals = len(body.split(".")[1]) if "." in body else 0
    scale = 0.01 if pct else 1.0
    return float(body) * scale, 0.5 * 10.0**-decimals * scale * 1.0001


def test_every_number_the_table_shows_is_the_one_in_metrics_json(browser, tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    visit = _Visit(browser)
    visit.page.goto((tiny_run / "report.html").as_uri())
    visit.page.wait_for_load_state("load")
    header = visit.page.evaluate(_HEADER)
    checked = 0
    for name, texts in visit.page.evaluate(_CELLS):
        if name == "accuracy_over_majority":  # derived: accuracy minus the majority model's
            continue
        for col, text in zip(header, texts):
            value = metrics["columns"][col].get(name)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert text == "—", (name, col, text)
                continue
            if text in ("∞", "-∞"):
                assert value == (math.inf if text == "∞" else -math.inf), (name, col)
            elif "e" in text.lower():  # the .3g format of expectancy
                assert float(text) == pytest.approx(value, rel=5e-3), (name, col)
            else:
                shown, half = _shown(text)
                assert abs(shown - value) <= half, (name, col, text, value)
            checked += 1
    assert checked > 100 and visit.errors == []


_ROWS = (
    "(id) => Array.from(document.getElementById(id).tBodies[0].rows)"
    ".map(r => Array.from(r.cells).map(c => [c.textContent, c.dataset.v === undefined ? null : c.dataset.v]))"
)


def _key(cell: list) -> tuple:
    """A cell's sort value as the page defines it (data-v, else its text); no value sorts last."""
    text, v = cell
    raw = text if v is None else v
    if raw in ("", "—"):
        return (1, 0.0, "")
    try:
        return (0, float(raw), "")
    except ValueError:
        return (0, 0.0, raw)


def _sorted_by(rows: list, col: int, descending: bool) -> bool:
    keys = [_key(r[col]) for r in rows]
    known = [k for k in keys if k[0] == 0]
    assert keys == known + [k for k in keys if k[0] == 1]  # the cells with no value come last
    return known == sorted(known, reverse=descending)


def test_multi_piece_tables_sort_keep_the_pooled_row_and_their_header(browser, pieces_run):
    metrics = json.loads((pieces_run / "metrics.json").read_text())
    visit = _Visit(browser)
    visit.page.goto((pieces_run / "report.html").as_uri())
    visit.check_loaded()
    assert sorted(visit.page.evaluate("Object.keys(window.signalbenchCharts)")) == [
        "drawdown",
        "equity-daily",
        "equity-models",
        "equity-oracles",
    ]
    visit.page.locator("#pieces").scroll_into_view_if_needed()
    visit.page.screenshot(path=str(_artifacts() / "report-pieces.png"), full_page=True)
    table = "per_day-net_return"
    header = visit.page.evaluate(
        f"Array.from(document.getElementById('{table}').tHead.rows[0].cells).map(c => c.textContent)"
    )
    col = header.index(metrics["benchmarks"][0])
    for descending in (True, False):
        visit.page.locator(f"#{table} thead th").nth(col).click()
        rows = visit.page.evaluate(_ROWS, table)
        assert _sorted_by(rows, col, descending), rows
        assert sorted(r[0][0] for r in rows) == sorted(metrics["per_day"])
    foot = visit.page.evaluate(f"document.getElementById('{table}').tFoot.rows[0].cells[0].textContent")
    assert foot == "pooled"
    visit.page.locator(f"#{table} thead th").nth(0).click()  # by day: dates as text
    assert [r[0][0] for r in visit.page.evaluate(_ROWS, table)] == sorted(metrics["per_day"], reverse=True)

    box = visit.page.locator(f"#{table}").locator("xpath=..")  # a short scroll box: the header stays at its top
    box.evaluate("d => { d.style.maxHeight = '4em'; d.scrollTop = 1000; }")
    top, head = box.evaluate(
        "d => [d.getBoundingClientRect().top, d.querySelector('thead th').getBoundingClientRect().top]"
    )
    assert box.evaluate("d => d.scrollTop") > 0 and head == pytest.approx(top, abs=2)
    assert visit.errors == [] and visit.outside == []


def test_trades_tables_sort_by_each_column(browser, tiny_run):
    visit = _Visit(browser)
    visit.page.goto((tiny_run / "report.html").as_uri())
    visit.page.wait_for_load_state("load")
    busiest = visit.page.evaluate(  # the column with the most trades
        "(() => { const t = Array.from(document.querySelectorAll('details.trades table'));"
        " const k = t.map(x => x.tBodies[0].rows.length); const i = k.indexOf(Math.max(...k));"
        " t[i].id = 'first-trades'; return [i, k[i]]; })()"
    )
    assert busiest[1] > 3
    details = visit.page.locator("details.trades").nth(busiest[0])
    details.locator("summary").click()
    names = visit.page.evaluate(
        "Array.from(document.querySelectorAll('#first-trades thead th')).map(t => t.textContent)"
    )
    assert names == ["side", "entry", "exit", "bars held", "entry price", "exit price", "net PnL"]
    before = visit.page.evaluate(_ROWS, "first-trades")
    for col in range(len(names)):
        for descending in (True, False):
            visit.page.locator("#first-trades thead th").nth(col).click()
            rows = visit.page.evaluate(_ROWS, "first-trades")
            assert _sorted_by(rows, col, descending), (names[col], descending)
            assert sorted(map(str, rows)) == sorted(map(str, before))  # the same trades, only reordered
    net = [float(r[6][1]) for r in visit.page.evaluate(_ROWS, "first-trades")]
    assert net == sorted(net)  # net PnL by value, not by its text ("-0.01%" < "0.002%")
    details.screenshot(path=str(_artifacts() / "report-trades.png"))
    assert visit.errors == [] and visit.outside == []
