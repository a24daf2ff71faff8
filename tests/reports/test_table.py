"""report.html's comparison table, cell by cell, against metrics.json (formatted here, independently of the report).

The expected rows, their formats and their directions are this file's own statement of what the table promises: the
README's classification metrics, the accuracy over the majority baseline, and the trading metrics of ``res.stats``
(``sharpe``, ``max_drawdown``, ``breakeven_cost_bps``, ``signal_efficiency``, ``deflated_sharpe``, ``pbo``, ...).
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser

import pytest

# (row, better: +1 higher / -1 lower / 0 not ranked, format: (kind, decimals)); kinds: "f" fixed, "+f" signed fixed,
# "%" percent (value x 100 with a % sign), "g" significant digits
CLASSIFICATION = [
    ("accuracy", 1, ("f", 4)),
    ("balanced_accuracy", 1, ("f", 4)),
    ("macro_f1", 1, ("f", 4)),
    ("log_loss", -1, ("f", 4)),
    ("brier", -1, ("f", 4)),
    ("direction_accuracy", 1, ("f", 4)),
    ("accuracy_over_majority", 1, ("+f", 4)),
]
TRADING = [
    ("total_return_additive", 1, ("%", 4)),
    ("total_return_compound", 1, ("%", 4)),
    ("ann_return_compound", 1, ("%", 2)),
    ("ann_volatility", 0, ("%", 2)),
    ("sharpe", 1, ("f", 2)),
    ("sortino", 1, ("f", 2)),
    ("calmar", 1, ("f", 2)),
    ("max_drawdown", 1, ("%", 3)),  # a drawdown is <= 0: the one closest to zero is the best
    ("n_trades", 0, ("f", 0)),
    ("turnover", 0, ("f", 1)),
    ("cost_paid", 0, ("%", 4)),
    ("hit_rate", 1, ("f", 3)),
    ("profit_factor", 1, ("f", 3)),
    ("breakeven_cost_bps", 1, ("f", 2)),
    ("oracle_return_additive", 0, ("%", 4)),
    ("signal_efficiency", 1, ("f", 3)),
    ("deflated_sharpe", 1, ("f", 3)),
    ("pbo", -1, ("f", 3)),
    ("round_trips", 0, ("f", 0)),
    ("win_rate", 1, ("f", 3)),
    ("payoff_ratio", 1, ("f", 3)),
    ("expectancy", 1, ("g", 3)),
    ("max_win_streak", 0, ("f", 0)),
    ("max_loss_streak", 0, ("f", 0)),
    ("avg_bars_held", 0, ("f", 1)),
]
TRADING_NAMES = {name for name, _, _ in TRADING}
README_PROMISES = {
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "log_loss",
    "brier",
    "direction_accuracy",
    "sharpe",
    "max_drawdown",
    "breakeven_cost_bps",
    "signal_efficiency",
    "deflated_sharpe",
}


class _Table(HTMLParser):
    """The ``table#metrics`` of report.html: header names and, per row, its name and (text, class) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: dict[str, list[tuple[str, str]]] = {}
        self._inside = False
        self._cell: list | None = None
        self._row: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "metrics":
            self._inside = True
        if not self._inside:
            return
        if tag == "tr":
            self._row = [] if "group" not in (a.get("class") or "") else None
        if tag in ("th", "td") and self._row is not None:
            self._cell = ["", a.get("class") or ""]
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if not self._inside:
            return
        if tag in ("th", "td"):
            self._cell = None
        if tag == "tr" and self._row:
            name, cells = self._row[0][0].strip(), [(t.strip(), c.strip()) for t, c in self._row[1:]]
            if name == "metric":
                self.header = [t for t, _ in cells]
            else:
                assert name not in self.rows, f"row {name} appears twice"
                self.rows[name] = cells
            self._row = None
        if tag == "table":
            self._inside = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def _number(v) -> float:
    return math.nan if v is None else float(v)


def _text(v: float, fmt: tuple[str, int]) -> str:
    kind, d = fmt
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if kind == "%":
        return f"{100.0 * v:.{d}f}%"
    if kind == "+f":
        return f"{v:+.{d}f}"
    if kind == "g":
        return f"{v:.{d}g}"
    return f"{v:.{d}f}"


@pytest.fixture(scope="module")
def report(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    table = _Table()
    table.feed((tiny_run / "report.html").read_text(encoding="utf-8"))
    return metrics, table


def _values(metrics: dict, row: str) -> dict[str, float]:
    """Every column's value of ``row`` as metrics.json records it (the accuracy over majority derived here)."""
    columns = metrics["columns"]
    if row == "accuracy_over_majority":
        base = metrics["models"]["majority"]["accuracy"]
        return {c: _number(m.get("accuracy")) - base for c, m in columns.items()}
    return {c: _number(m.get(row)) for c, m in columns.items()}


def test_the_row_list_is_complete(report):
    metrics, table = report
    promised = [name for name, _, _ in CLASSIFICATION + TRADING]
    assert README_PROMISES <= set(promised)
    shown = [name for name in promised if not all(math.isnan(v) for v in _values(metrics, name).values())]
    assert {"max_drawdown", "sharpe", "accuracy", "log_loss"} <= set(shown)  # the tiny run fills these
    assert list(table.rows) == shown


def test_every_cell_is_the_formatted_value_of_metrics_json(report):
    metrics, table = report
    assert sorted(table.header) == sorted(metrics["columns"])
    for name, _, fmt in CLASSIFICATION + TRADING:
        if name not in table.rows:
            continue
        values = _values(metrics, name)
        got = [text for text, _ in table.rows[name]]
        want = [_text(values[c], fmt) for c in table.header]
        assert got == want, name
    assert any(text.endswith("%") and abs(float(text[:-1])) >= 0.01 for text, _ in table.rows["max_drawdown"])


def test_the_highlighted_cell_of_every_ranked_row_is_the_best_in_its_direction(report):
    metrics, table = report
    bench = set(metrics["benchmarks"])
    idle = {c for c, m in metrics["columns"].items() if _number(m.get("n_trades")) == 0}
    checked = 0
    for name, better, _ in CLASSIFICATION + TRADING:
        if name not in table.rows:
            continue
        values = _values(metrics, name)
        classes = dict(zip(table.header, (cls for _, cls in table.rows[name])))
        assert {c for c, cls in classes.items() if cls == "bench"} == bench, name
        highlighted = {c for c, cls in classes.items() if cls == "best"}
        skip = bench | (idle if name in TRADING_NAMES else set())  # benchmarks, and in trading rows idle columns
        ranked = {c: v for c, v in values.items() if c not in skip and math.isfinite(v)}
        if better == 0 or len(ranked) < 2:
            assert highlighted == set(), name
            continue
        best = (max if better > 0 else min)(ranked.values())
        assert highlighted == {c for c, v in ranked.items() if v == best}, name
        assert highlighted, name
        checked += 1
    assert checked >= 10
