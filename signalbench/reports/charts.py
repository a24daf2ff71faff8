"""The interactive charts of report.html: uPlot (MIT, vendored in ``static/``) fed by JSON embedded in the page.

Each chart is a dict the template turns into a ``<script type="application/json">`` block and one uPlot instance:
an overview of every line drawn through :func:`signalbench.reports.downsample.minmax_downsample` (the union of each
line's kept rows, about :data:`OVERVIEW_POINTS` rows per chart), and, when the chart's full data holds at most
:data:`FULL_VALUES` numbers (rows x lines), the full-resolution data the page switches to on zoom (or, when the
overview would hold more than half the rows anyway, every row once, as the overview). Beyond that cap the zoom
switches to a finer min/max selection of about :data:`DETAIL_VALUES` numbers, and the chart says so. Colours: the
benchmarks keep fixed styles (oracle black dashed, naive oracle grey dashed, buy-and-hold gold dotted), the model
columns take :data:`PALETTE` in order (20 colours that stay apart on white). Nothing is loaded from outside the
file. See ``docs/architecture.md``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from signalbench.reports.downsample import minmax_downsample

__all__ = [
    "DETAIL_VALUES",
    "FULL_VALUES",
    "OVERVIEW_POINTS",
    "PALETTE",
    "assets",
    "equity_charts",
    "line_chart",
    "styles_of",
]

#: 20 colours distinct on white (after Trubetskoy's "20 simple distinct colours", the pale ones darkened).
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#8db600", "#9a6324", "#469990",
    "#800000", "#000075", "#808000", "#e6a700", "#dc9ba0", "#7b68ee", "#2e8b57", "#ff6f00", "#5c3a6e", "#a9a9a9",
)  # fmt: skip
#: Fixed (colour, dash) of the benchmarks.
BENCH_STYLE = {"oracle": ("#000000", [6, 4]), "naive_oracle": ("#888888", [6, 4]), "buy_and_hold": ("#b8860b", [2, 3])}
#: Rows of a chart's overview (about; the union of every line's min/max rows).
OVERVIEW_POINTS = 4000
#: Numbers (rows x lines, x included) up to which a chart also embeds its full-resolution data for zooming.
FULL_VALUES = 400_000
#: Beyond that, the numbers of the finer min/max selection the zoom switches to instead.
DETAIL_VALUES = 200_000
_DIGITS = 5


def assets() -> dict[str, str]:
    """The vendored uPlot script and stylesheet, to inline in the page (``js``, ``css``)."""
    root = resources.files("signalbench.reports") / "static"
    return {"js": (root / "uPlot.iife.min.js").read_text("utf-8"), "css": (root / "uPlot.min.css").read_text("utf-8")}


def _style(name: str, k: int) -> dict[str, Any]:
    color, dash = BENCH_STYLE.get(name, (PALETTE[k % len(PALETTE)], None))
    return {"label": name, "stroke": color, "dash": dash}


def styles_of(columns: list[str]) -> dict[str, dict[str, Any]]:
    """Each column's line style: the benchmarks theirs (:data:`BENCH_STYLE`), the others :data:`PALETTE` in order."""
    styles = {c: _style(c, k) for k, c in enumerate(c for c in columns if c not in BENCH_STYLE)}
    styles.update({c: _style(c, 0) for c in columns if c in BENCH_STYLE})
    return styles


def _numbers(values: np.ndarray, digits: int = _DIGITS) -> list[float | None]:
    """Rounded floats for JSON, NaN and infinities as null (uPlot leaves a gap)."""
    v = np.round(np.asarray(values, dtype=float), digits)
    return [None if not np.isfinite(a) else float(a) for a in v]


def _x_seconds(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """The x values uPlot takes: Unix seconds for timestamps (``True``), else the row numbers as they are."""
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        ns = np.asarray(x).astype("datetime64[ns]").astype(np.int64)  # whatever unit parquet gave (us, ns)
        return ns.astype(float) / 1e9, True
    return np.asarray(x, dtype=float), False


def _kept(lines: dict[str, np.ndarray], n: int, points: int) -> np.ndarray:
    """The union of every line's min/max rows, about ``points`` rows in all, first and last included."""
    budget = max(4, points // max(1, len(lines)))
    rows = np.unique(np.concatenate([minmax_downsample(y, budget) for y in lines.values()] + [np.array([0, n - 1])]))
    return rows[(rows >= 0) & (rows < n)]


def line_chart(
    chart_id: str, title: str, ylabel: str, x: np.ndarray, lines: dict[str, np.ndarray], styles: list[dict[str, Any]]
) -> dict[str, Any]:
    """One chart: the overview data, the data the zoom switches to (``full``), and the series styles.

    ``zoom`` says what the zoom shows: ``"full"`` every row (rows x lines under :data:`FULL_VALUES`), else
    ``"detail"``, a finer min/max selection of about :data:`DETAIL_VALUES` numbers.
    """
    xs, is_time = _x_seconds(x)
    n = len(xs)
    rows = _kept(lines, n, OVERVIEW_POINTS)
    x_digits = 3 if is_time else 0

    def data(at: np.ndarray | slice) -> list[list[float | None]]:
        return [_numbers(xs[at], x_digits)] + [_numbers(y[at]) for y in lines.values()]

    full = n * (len(lines) + 1) <= FULL_VALUES
    if full and 2 * len(rows) > n:  # the overview would hold most rows anyway: embed every row once
        rows = np.arange(n)
    zoom = None if len(rows) == n else (slice(None) if full else _kept(lines, n, DETAIL_VALUES // (len(lines) + 1)))
    return {
        "id": chart_id,
        "title": title,
        "ylabel": ylabel,
        "time": is_time,
        "series": styles,
        "rows": n,
        "overview": data(rows),
        "full": None if zoom is None else data(zoom),
        "zoom": "full" if full else "detail",
    }


def equity_charts(returns: pd.DataFrame, columns: list[str], x: np.ndarray) -> list[dict[str, Any]]:
    """The oracles' equity, the models' and buy-and-hold's equity, and their drawdown: three charts.

    Equity compounds each column's net returns (start = 1); drawdown is equity over its running peak minus 1. The
    oracles sit on their own chart so the models' lines are not flattened by the oracle's scale.
    """
    equity = {c: np.cumprod(1.0 + returns[c].fillna(0.0).to_numpy()) for c in columns}
    oracles = [c for c in ("oracle", "naive_oracle") if c in equity]
    rest = [c for c in columns if c not in oracles]
    styles = styles_of(columns)
    drawdown = {c: equity[c] / np.maximum.accumulate(equity[c]) - 1.0 for c in rest}

    def chart(chart_id: str, title: str, ylabel: str, lines: dict[str, np.ndarray]) -> dict[str, Any]:
        return line_chart(chart_id, title, ylabel, x, lines, [styles[c] for c in lines])

    charts = []
    if oracles:
        oracle_lines = {c: equity[c] for c in oracles}
        charts.append(
            chart("equity-oracles", "Equity of the oracle and the naive oracle (start = 1)", "equity", oracle_lines)
        )
    models = {c: equity[c] for c in rest}
    charts.append(chart("equity-models", "Equity of the model columns and buy-and-hold (start = 1)", "equity", models))
    charts.append(chart("drawdown", "Drawdown", "drawdown", drawdown))
    return charts


def to_json(chart: dict[str, Any]) -> str:
    """The chart as JSON safe inside a ``<script>`` element (no ``</`` can close it early)."""
    return json.dumps(chart, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
