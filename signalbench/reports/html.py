"""``report.html``: one self-contained file comparing every model x strategy of a run on identical costs.

:func:`build_report` reads only the run folder (``metrics.json``, ``config.json``, ``audit.json``,
``history/<model>.json`` and the three parquet files; layout in :mod:`signalbench.experiment.runfolder`), so a report
can be rebuilt without retraining (``signalbench report RUN_DIR``). The page holds what was run, a banner per
leakage-audit finding, the comparison table (best value per row highlighted, columns sortable by a few lines of
inline JavaScript; the benchmarks stay apart), links to the quantstats tear sheets of
:mod:`signalbench.reports.tearsheets` (or why there are none), the plots of :mod:`signalbench.reports.plots` as base64
PNG images, and a short guide to reading it. Nothing is loaded from outside the file (no external scripts, fonts,
styles or images). See ``docs/architecture.md``.
"""

from __future__ import annotations

import errno
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._atomic import write_text
from signalbench._runfiles import written
from signalbench._runfolder import audit_of, check_run, config_of, histories_of, metrics_of, read_table
from signalbench._validation import expected
from signalbench.reports import across, charts, choices, plots, round_trips, uncertainty
from signalbench.reports.tearsheets import build_tearsheets

__all__ = ["CLASSIFICATION_ROWS", "TRADING_ROWS", "build_report", "comparison_table", "render"]

#: (metric, better: +1 higher, -1 lower, 0 no ranking, format) of the classification block.
CLASSIFICATION_ROWS = (
    ("accuracy", 1, ".4f"),
    ("balanced_accuracy", 1, ".4f"),
    ("macro_f1", 1, ".4f"),
    ("log_loss", -1, ".4f"),
    ("brier", -1, ".4f"),
    ("direction_accuracy", 1, ".4f"),
    ("accuracy_over_majority", 1, "+.4f"),
)
#: The trading block, same form.
TRADING_ROWS = (
    ("total_return_additive", 1, ".4%"),
    ("total_return_compound", 1, ".4%"),
    ("ann_return_compound", 1, ".2%"),
    ("ann_volatility", 0, ".2%"),
    ("sharpe", 1, ".2f"),
    ("sortino", 1, ".2f"),
    ("calmar", 1, ".2f"),
    ("max_drawdown", 1, ".3%"),
    ("n_trades", 0, ".0f"),
    ("turnover", 0, ".1f"),
    ("cost_paid", 0, ".4%"),
    ("cost_spread", 0, ".4%"),  # the book cost model's split of cost_paid (absent otherwise: the row is skipped)
    ("cost_depth", 0, ".4%"),
    ("cost_fees", 0, ".4%"),
    ("rows_short_of_depth", 0, ".0f"),
    ("hit_rate", 1, ".3f"),
    ("profit_factor", 1, ".3f"),
    ("breakeven_cost_bps", 1, ".2f"),
    ("oracle_return_additive", 0, ".4%"),
    ("signal_efficiency", 1, ".3f"),
    ("deflated_sharpe", 1, ".3f"),
    ("pbo", -1, ".3f"),
    ("round_trips", 0, ".0f"),
    ("win_rate", 1, ".3f"),
    ("payoff_ratio", 1, ".3f"),
    ("expectancy", 1, ".3g"),
    ("max_win_streak", 0, ".0f"),
    ("max_loss_streak", 0, ".0f"),
    ("avg_bars_held", 0, ".1f"),
)
_ZOOM = 400


def _number(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _cell(v: float, fmt: str) -> str:
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return format(v, fmt)


def _row(name: str, better: int, fmt: str, columns: dict[str, dict], unranked: set[str]) -> dict[str, Any] | None:
    """One table row; the best value among the columns not in ``unranked`` is marked (benchmarks never are)."""
    values = {c: _number(m.get(name)) for c, m in columns.items()}
    if all(math.isnan(v) for v in values.values()):
        return None
    bench = {c for c, m in columns.items() if m.get("benchmark")}
    ranked = [v for c, v in values.items() if c not in unranked and c not in bench and math.isfinite(v)]
    best = (max(ranked) if better > 0 else min(ranked)) if ranked and better and len(ranked) > 1 else None
    cells = []
    for c, v in values.items():
        cls = "bench" if c in bench else ("best" if best is not None and v == best else "")
        cells.append({"text": _cell(v, fmt), "sort": "" if math.isnan(v) else repr(v), "cls": cls})
    return {"name": name, "help": {1: "higher is better", -1: "lower is better"}.get(better, ""), "cells": cells}


def _with_baseline(columns: dict[str, dict], models: dict[str, dict]) -> dict[str, dict]:
    """Add ``accuracy_over_majority``: a column's accuracy minus the majority-class baseline's (when it ran)."""
    base = _number(models.get("majority", {}).get("accuracy"))
    if math.isnan(base):
        return columns
    return {c: {**m, "accuracy_over_majority": _number(m.get("accuracy")) - base} for c, m in columns.items()}


def comparison_table(metrics: dict[str, Any], order: list[str] | None = None) -> dict[str, Any]:
    """The table's model columns first (in ``order``, default the JSON's), then the benchmarks, in two blocks."""
    bench = set(metrics.get("benchmarks", []))
    cols = metrics["columns"]
    order = [c for c in (order or []) if c in cols] + [c for c in cols if c not in (order or [])]
    order = [c for c in order if c not in bench] + [c for c in metrics.get("benchmarks", []) if c in cols]
    columns = _with_baseline({c: {**cols[c], "benchmark": c in bench} for c in order}, metrics.get("models", {}))
    idle = {c for c, m in columns.items() if _number(m.get("n_trades")) == 0}  # nothing traded: nothing to rank
    groups = []
    for title, rows, unranked in (
        ("classification (tested rows)", CLASSIFICATION_ROWS, set()),
        ("trading (after costs)", TRADING_ROWS, idle),
    ):
        built = [r for r in (_row(n, b, f, columns, unranked) for n, b, f in rows) if r is not None]
        if built:
            groups.append({"title": title, "rows": built})
    return {"columns": [{"name": c, "bench": c in bench} for c in order], "groups": groups, "idle": sorted(idle)}


def _costs(config: dict[str, Any] | None) -> str:
    if not config or "costs" not in config:
        return "not recorded"
    costs = config["costs"]
    if costs.get("model", "linear") == "linear":  # the order-book settings are defaults there: not shown
        costs = {k: v for k, v in costs.items() if k not in _BOOK_COSTS}
    return ", ".join(f"{k} {v}" for k, v in costs.items() if v is not None)


#: ``[costs]`` keys that only a book run (``model = "book"``) uses.
_BOOK_COSTS = ("model", "size", "notional", "latency", "unfilled", "penalty_bps", "capacity_sizes")


def _split(split: dict[str, Any]) -> str:
    folds = split.get("folds", [])
    if split.get("kind") in ("days", "walk_forward_days"):  # multi-piece: whole days per part
        return f"{split['kind']} (pool {split.get('pool', '?')}): each day wholly train, validation or tested"
    parts = [f"{f.get('train')} train / {f.get('val')} validation / {f.get('test')} tested rows" for f in folds]
    head = f"{split.get('kind', '?')}, purge gap {split.get('purge_gap', '?')}"
    return head + (": " + "; ".join(parts) if parts else "")


def _facts(metrics: dict[str, Any], config: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [f for f in _fact_list(metrics, config, metrics.get("tested", {})) if f is not None]


def _fact_list(metrics, config, tested) -> list[tuple[str, str] | None]:
    bayes = metrics.get("bayes_accuracy")
    return [
        ("data", str(metrics.get("data", "not recorded"))),
        (
            "tested span",
            f"{tested.get('first')} to {tested.get('last')} ({tested.get('rows')} rows, "
            f"{tested.get('labelled_rows')} labelled)",
        ),
        ("costs", _costs(config)),
        ("split", _split(metrics.get("split", {}))),
        ("seed", str((config or {}).get("seed", "not recorded"))),
        ("labels", _labels(metrics.get("labels", (config or {}).get("labels")))),
        ("clock", str(metrics.get("clock", ""))),
        ("Bayes accuracy (planted edge)", f"{bayes:.4f}") if isinstance(bayes, int | float) else None,
    ]


def _labels(labels: Any) -> str:
    """The label definition once when every fold used the same one, else one per fold."""
    if not isinstance(labels, list):
        return json.dumps(labels)
    if all(entry == labels[0] for entry in labels[1:]):
        return json.dumps(labels[0]) if labels else "not recorded"
    return "; ".join(f"fold {k + 1}: {json.dumps(entry)}" for k, entry in enumerate(labels))


def _audit(audit: dict[str, Any] | None, pieces: bool = False) -> dict[str, Any]:
    if audit is None:
        return {"present": False, "findings": [], "checks": "", "pieces": pieces}
    checks = ", ".join(f"{k}: {v}" for k, v in sorted(audit.get("checks", {}).items()))
    return {"present": True, "findings": audit.get("findings", []), "checks": checks}


def _zoom_rows(positions: pd.DataFrame, models: list[str]) -> slice:
    """The window of ``_ZOOM`` rows with the most position changes of the model columns."""
    n = len(positions)
    if n <= _ZOOM or not models:
        return slice(0, min(n, _ZOOM))
    changes = positions[models].diff().abs().fillna(0.0).sum(axis=1).to_numpy()
    busy = np.convolve(changes, np.ones(_ZOOM), mode="valid")
    start = int(np.argmax(busy))
    return slice(start, start + _ZOOM)


def _cost_inputs(returns: pd.DataFrame, columns: dict[str, dict]) -> tuple[pd.Series, pd.Series, str]:
    turnover = pd.Series({c: _number(m.get("turnover")) for c, m in columns.items()}).fillna(0.0)
    if all(f"gross:{c}" in returns for c in columns):
        gross = pd.Series({c: float(returns[f"gross:{c}"].fillna(0.0).sum()) for c in columns})
        return gross, turnover, "Gross returns from returns.parquet; net = gross - cost x turnover."
    be = pd.Series({c: _number(m.get("breakeven_cost_bps")) for c, m in columns.items()})
    return (
        (be * turnover / 1e4).fillna(0.0),
        turnover,
        "This run folder has no gross returns: gross = breakeven x turnover.",
    )


def _x_axis(returns: pd.DataFrame) -> np.ndarray:
    """The plots' x values: the tested rows' timestamps, or their row numbers when the folder has none."""
    return pd.to_datetime(returns["timestamp"]).to_numpy() if "timestamp" in returns else np.arange(len(returns))


def _figures(run_dir: Path, metrics: dict[str, Any], trades: Any = None) -> list[dict[str, Any]]:
    """The static figures; ``trades`` is :func:`_records`' (the trade marks of the zoomed window)."""
    columns = metrics["columns"]
    bench = list(metrics.get("benchmarks", []))
    model_cols = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"] if not c["bench"]]
    models = list(metrics.get("models", {}))
    returns = read_table(run_dir, "returns.parquet")
    positions = read_table(run_dir, "positions.parquet")
    pred = read_table(run_dir, "predictions.parquet")
    x = _x_axis(returns)
    figs = []
    histories = histories_of(run_dir)
    if histories:
        figs.append(("Training history", "", plots.history_figure(histories), []))
    shown = [c for c in model_cols + bench if c in returns]  # equity and drawdown: interactive, see _charts
    if not _pieces(metrics):  # a multi-piece run keeps no gross returns of its pooled days
        gross, turnover, how = _cost_inputs(returns, {c: columns[c] for c in shown})
        figs.append(("Net return against cost", how, plots.cost_figure(gross, turnover), []))
    if metrics.get("capacity"):
        figs.append(
            (
                "Capacity on the order book",
                "Net return of every column at each size (shares at exposure 1) executed on the book; the capacity "
                "is the size where it crosses zero. The replayed book is not depleted by our own trades, hidden "
                "liquidity is not counted and no order rests in the queue.",
                plots.capacity_figure(metrics["capacity"]),
                [],
            )
        )
    if models and "label" in pred:
        tables = [(m, plots.calibration_table(pred, m).to_html(float_format="%.3f", classes="metrics")) for m in models]
        figs.append(
            ("Reliability", "Accuracy by confidence per model.", plots.reliability_figure(pred, models), tables)
        )
        figs.append(("Predicted probabilities", "", plots.probability_figure(pred, models), []))
    confusions = {m: v["confusion"] for m, v in metrics.get("models", {}).items() if v.get("confusion") is not None}
    if confusions:
        figs.append(
            (
                "Confusion matrices",
                "Rows: true class; columns: predicted class.",
                plots.confusion_figure(confusions),
                [],
            )
        )
    if "price" in returns and returns["price"].notna().any():
        w = _zoom_rows(positions, model_cols)
        shown_pos = [c for c in model_cols[:6] if c in positions] + [c for c in ("buy_and_hold",) if c in positions]
        figs.append(
            (
                "Zoomed window: price, positions and PnL",
                f"The {_ZOOM} rows with the most position changes; positions of "
                f"{', '.join(shown_pos)}" + (" (the first six model columns)" if len(model_cols) > 6 else "") + "; "
                "on the price, each trade's executed entry (triangle up: long, down: short) and exit (cross) in "
                "its column's colour.",
                plots.zoom_figure(
                    x[w],
                    returns["price"].to_numpy()[w],
                    positions[shown_pos].iloc[w],
                    returns[shown_pos].iloc[w],
                    round_trips.window_marks(trades, model_cols, shown_pos, w.start, w.stop),
                ),
                [],
            )
        )
    return [{"title": t, "text": txt, "uri": plots.to_data_uri(f), "tables": tb} for t, txt, f, tb in figs]


def _charts(run_dir: Path, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive equity and drawdown charts (:mod:`signalbench.reports.charts`), each with its JSON."""
    bench = list(metrics.get("benchmarks", []))
    model_cols = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"] if not c["bench"]]
    returns = read_table(run_dir, "returns.parquet")
    x = _x_axis(returns)
    # a multi-piece run's returns.parquet holds the pooled days' sums (several symbols' notional): not a compounded
    # equity; its chart is the daily pooled one below (1 + running sum)
    cols = [] if _pieces(metrics) else [c for c in model_cols + bench if c in returns]
    built = charts.equity_charts(returns, cols, x) if cols else []
    daily = across.daily_chart(metrics, model_cols + bench)
    built += [daily] if daily is not None else []
    if _pieces(metrics) and (run_dir / "piece_returns.parquet").exists():
        built += across.symbol_charts(read_table(run_dir, "piece_returns.parquet"), model_cols + bench)[0]
    return [{**c, "json": charts.to_json(c)} for c in built]


def _exposure(run_dir: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """Every column's exposure (:func:`signalbench.reports.choices.exposure_rows`), in the table's order."""
    order = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"]]
    return choices.exposure_rows(read_table(run_dir, "positions.parquet"), metrics, order)


def _uncertainty(run_dir: Path, metrics: dict[str, Any], config: dict[str, Any] | None) -> dict[str, Any]:
    """Sharpe's standard error and net return's interval per column (:mod:`signalbench.reports.uncertainty`)."""
    returns = read_table(run_dir, "returns.parquet")
    order = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"] if c["name"] in returns]
    rows = []
    if "timestamp" in returns and order:
        rows = uncertainty.uncertainty_rows(returns, metrics, order, (config or {}).get("periods_per_year"))
    return {
        "rows": rows,
        "blocks": uncertainty.BLOCKS,
        "resamples": uncertainty.RESAMPLES,
        "seed": uncertainty.SEED,
        "deflated": _deflated_line(metrics),
    }


def _deflated_line(metrics: dict[str, Any]) -> str:
    """One line on the deflated Sharpe: how many trials it accounts for, the spread of their Sharpes."""
    bench = set(metrics.get("benchmarks", []))
    cols = {c: m for c, m in metrics["columns"].items() if c not in bench}
    extra = sum(max(0, len((m.get("tuning") or [{}])[-1].get("candidate", [])) - 2) for m in cols.values())
    sharpes = np.array([_number(m.get("sharpe")) for m in cols.values()])
    sharpes = sharpes[np.isfinite(sharpes)]
    spread = f"{sharpes.std(ddof=1):.3g}" if sharpes.size > 1 else "—"
    return (
        f"The deflated Sharpe accounts for {len(cols) + extra} trials ({len(cols)} columns and {extra} further tuning "
        f"candidates); their Sharpes spread with a standard deviation of {spread}."
    )


def _marked(table: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mark the table's sharpe and total_return_additive cells whose 95% interval holds zero (text unchanged)."""
    zero = {"sharpe": {r["column"] for r in rows if r["sharpe_zero"]}}
    zero["total_return_additive"] = {r["column"] for r in rows if r["net_zero"]}
    names = [c["name"] for c in table["columns"]]
    for group in table["groups"]:
        for row in group["rows"]:
            if row["name"] in zero:
                for name, cell in zip(names, row["cells"]):
                    cell["zero"] = name in zero[row["name"]]
    return table


def _records(run_dir: Path, metrics: dict[str, Any], config: dict[str, Any] | None) -> tuple[list[str], Any]:
    """The model columns and their round trips (:func:`signalbench.reports.round_trips.records`, or why none)."""
    models = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"] if not c["bench"]]
    positions = read_table(run_dir, "positions.parquet")
    costs = (config or {}).get("costs") or {}
    if _pieces(metrics):
        return models, "a multi-piece run's trades are per piece (piece_returns.parquet holds every tested row)"
    return models, round_trips.records(positions, read_table(run_dir, "returns.parquet"), models, costs)


def _pieces(metrics: dict[str, Any]) -> bool:
    """Whether the run is a multi-piece one (its returns are daily pooled sums, not one tested span's rows)."""
    return metrics.get("kind") == "pieces"


def _trades(run_dir: Path, models: list[str], frame: Any) -> dict[str, Any]:
    """The model columns' round trips for the trades table (:mod:`signalbench.reports.round_trips`)."""
    positions = read_table(run_dir, "positions.parquet")
    return round_trips.round_trips(positions, read_table(run_dir, "returns.parquet"), models, {}, frame)


def _csv_order(run_dir: Path) -> list[str]:
    """The column order of ``metrics.csv`` (models in the experiment's order), or none when it is missing."""
    path = run_dir / "metrics.csv"
    if not path.exists():
        return []
    return [str(c) for c in pd.read_csv(path, index_col=0, nrows=0).columns]


def render(run_dir: str | Path, sheets: dict[str, Any] | None = None) -> str:
    """The HTML of the report of ``run_dir`` (what :func:`build_report` writes).

    ``sheets`` is what :func:`signalbench.reports.tearsheets.build_tearsheets` returned (links to the tear sheets, or
    why there are none); None leaves the tear-sheet section out.
    """
    import jinja2

    run_dir = Path(run_dir)
    metrics = metrics_of(run_dir, columns=True)
    config = config_of(run_dir)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("signalbench.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    unc = _uncertainty(run_dir, metrics, config)
    models, trades = _records(run_dir, metrics, config)
    order = [c["name"] for c in comparison_table(metrics, _csv_order(run_dir))["columns"]]
    pieces_section, chart_list = across.across_pieces(metrics, order), _charts(run_dir, metrics)
    return env.get_template("report.html.j2").render(
        run={"experiment": metrics.get("experiment", run_dir.name), "facts": _facts(metrics, config)},
        audit=_audit(audit_of(run_dir), metrics.get("kind") == "pieces"),
        notes=metrics.get("notes", []),
        table=_marked(comparison_table(metrics, _csv_order(run_dir)), unc["rows"]),
        uncertainty=unc,
        across=pieces_section,
        figures=_figures(run_dir, metrics, trades),
        charts=chart_list,
        no_daily_chart=pieces_section is not None and not any(c["id"] == "equity-daily" for c in chart_list),
        picks=choices.tuned_picks(metrics),
        exposure=_exposure(run_dir, metrics),
        trades=_trades(run_dir, models, trades),
        uplot=charts.assets(),
        sheets=sheets,
    )


def build_report(run_dir: str | Path, tearsheets: bool = True) -> Path:
    """Write ``run_dir/report.html`` atomically from the run folder's files; returns its path.

    With ``tearsheets`` the quantstats tear sheets are (re)built first into ``run_dir/tearsheets/``
    (:func:`signalbench.reports.tearsheets.build_tearsheets`) and linked from the report; without quantstats the
    report still builds and says that the tear sheets need the ``reports`` extra.

    Parameters
    ----------
    run_dir : path
        A finished run folder (or the temporary folder of one being written).
    tearsheets : bool, default True
        Build and link the tear sheets.

    Returns
    -------
    pathlib.Path
        ``run_dir/report.html``.

    Raises
    ------
    FileNotFoundError
        ``run_dir`` lacks ``metrics.json`` or one of the parquet files.
    signalbench.RunFolderError
        A file of the folder cannot be read (not JSON, a wrong shape or type at a key: the message names the file
        and the key), or ``report.html`` or the tear sheets cannot be written (a folder in the way, a full disk:
        the message names the path). The old ``report.html`` and tear sheets are then left as they were.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(expected("run_dir", "an existing run folder", str(run_dir), raw=True))
    check_run(run_dir)  # a damaged folder fails before anything is rewritten
    path = run_dir / "report.html"
    if path.is_dir():  # seen now, not after the figures are drawn
        raise written(path, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)), "nothing was written")
    sheets = None
    if tearsheets:
        try:
            sheets = build_tearsheets(run_dir)
        except OSError as exc:
            left = "the old tear sheets and report.html are intact"
            raise written(run_dir / "tearsheets", exc, left, kind="folder") from exc
    html = render(run_dir, sheets)
    try:
        return write_text(path, html)
    except OSError as exc:
        raise written(path, exc, f"the old {path.name} is intact" if path.exists() else "nothing was written") from exc
