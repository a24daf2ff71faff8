"""The web page in Debian's chromium (Playwright, nothing downloaded), served by the real server: no console error,
no request leaving the server, the table sorts by a metric, the filter filters, a comparison and a report open.
Screenshots go to ``tests/artifacts/`` (or ``$SIGNALBENCH_ARTIFACTS``) for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from signalbench.service import keys
from signalbench.service.importer import import_runs
from tests.conftest import require_executable, require_module
from tests.service.conftest import write_run

sync_api = require_module("playwright.sync_api")

R1, R2, R3 = "alpha-20260101T000000Z", "beta-20260102T000000Z", "gamma-20260103T000000Z"
ROWS = "Array.from(document.querySelectorAll('#runs tbody tr')).map(r => r.dataset.run)"


def _artifacts() -> Path:
    root = Path(os.environ.get("SIGNALBENCH_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.sqlite'}"


@pytest.fixture
def page(engine, runs_dir, serve, tmp_path):
    chromium = require_executable("chromium")
    write_run(runs_dir, R1, sharpe={"lstm:sign": 1.0, "lstm:threshold": 2.5}, horizon=1)
    write_run(runs_dir, R2, sharpe={"transformer:sign": 0.5}, model="transformer", horizon=5)
    write_run(runs_dir, R3, sharpe={"lstm:sign": -1.0}, horizon=5)
    import_runs(engine, runs_dir)
    base = serve()
    token = keys.create_key(engine, "browser", ["read"])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        context = browser.new_context(
            viewport={"width": 1300, "height": 700}, extra_http_headers={"Authorization": f"Bearer {token}"}
        )
        page = context.new_page()
        errors, outside = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else outside.append(r.url))
        page.goto(base + "/")
        yield page
        assert errors == [] and outside == []
        browser.close()


def test_runs_table_sorts_filters_compares_and_opens_a_report(page):
    assert page.evaluate(ROWS) == [R3, R2, R1]  # newest first
    page.click("th a[data-sort='metric.sharpe']")
    assert page.evaluate(ROWS) == [R3, R2, R1]  # ascending best Sharpe: -1, 0.5, 2.5
    page.click("th a[data-sort='metric.sharpe']")
    assert page.evaluate(ROWS) == [R1, R2, R3]  # descending
    page.screenshot(path=str(_artifacts() / "service_runs.png"), full_page=True)
    page.fill("input[name=q]", "model = lstm")
    page.click("#filter button")
    assert sorted(page.evaluate(ROWS)) == [R1, R3]
    page.fill("input[name=q]", "model = ")
    page.click("#filter button")
    assert "q: expected a value" in page.inner_text("#error")
    page.fill("input[name=q]", "")
    page.click("#filter button")
    page.check(f"tr[data-run='{R1}'] input")
    page.check(f"tr[data-run='{R3}'] input")
    page.click("#compare-button")
    params = page.inner_text("#params")
    assert "labels.horizon" in params and "seed" not in params
    header = page.evaluate("Array.from(document.querySelectorAll('#metrics thead th')).map(t => t.innerText)")
    assert header[0] == "metric" and len(header) == 1 + 5  # R1: 2 columns + oracle; R3: 1 column + oracle
    best = page.evaluate("Array.from(document.querySelectorAll('#metrics td.best')).map(t => t.innerText)")
    assert best == ["2.5", "0.01", "0.01", "0.01"]  # the best model column per row; the oracle (99) is a benchmark
    page.screenshot(path=str(_artifacts() / "service_compare.png"), full_page=True)
    page.goto(page.url.split("/compare")[0] + "/")
    page.click(f"a[href='/api/v1/runs/{R2}/report']")
    assert page.inner_text("body") == f"report of {R2}"
