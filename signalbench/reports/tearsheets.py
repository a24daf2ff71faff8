"""quantstats tear sheets that are right for daily, intraday and event-time returns (the ``reports`` extra).

One self-contained HTML page per model x strategy column, named after the column, with buy-and-hold as the
benchmark. The returns are first put on the engine's clock (:mod:`signalbench.reports.clock`: event time compounded
onto 1-minute bars) and every annualized figure gets the engine's ``periods_per_year`` explicitly, so the tear
sheet's Sharpe ratio is the backtest's. The page is composed from quantstats' ``stats`` and ``plots`` functions
(:mod:`signalbench.reports.tearsheet_parts`) and a Jinja2 template, because ``quantstats.reports.html`` cannot be told
to leave out the sections a short span cannot fill. quantstats' and matplotlib's noise stays inside the call: warnings
are silenced with ``warnings.catch_warnings()`` (the caller's filters are untouched), and matplotlib settings,
quantstats' global font change at import included, are undone on the way out.

Entry points: :func:`tearsheet` (a :class:`~signalbench.engine.backtest.BacktestResult`, for notebooks) and
:func:`build_tearsheets` (``tearsheets/<column>.html`` of a run folder). ``BacktestResult`` has no ``tearsheet``
method: the engine may not import the reports stage (``docs/architecture.md``, "Layering").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._atomic import _umask, atomic_dir, write_text
from signalbench._runfolder import config_of, metrics_of, read_table
from signalbench._validation import did_you_mean, expected
from signalbench.reports.clock import clock_returns
from signalbench.reports.tearsheet_parts import FONT, Sections, drawdown_table, figures, metric_rows

__all__ = ["MISSING", "build_tearsheets", "load_quantstats", "render_tearsheet", "tearsheet", "tearsheet_filename"]

#: What a page says when quantstats is not installed.
MISSING = "the tear sheets need the reports extra: pip install 'signalbench[reports]' (quantstats)"
BENCHMARK = "buy_and_hold"


@contextmanager
def _quiet() -> Iterator[None]:
    """Warnings ignored and DejaVu Sans set for the block only; every setting is restored after it."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context({"font.family": FONT, "font.size": 9}):
        warnings.simplefilter("ignore")
        yield


def load_quantstats() -> Any:
    """The quantstats module, or None when it is not installed (its import-time font change is undone)."""
    try:
        with _quiet():
            import quantstats
    except ImportError:
        return None
    return quantstats


def tearsheet_filename(column: str) -> str:
    """``tearsheets/<column>.html``'s file name, safe in a shell (no parentheses, spaces or quotes).

    Every run of characters other than letters, digits, ``.``, ``_``, ``+`` and ``-`` becomes one ``_``
    (``lstm:threshold(tuned)`` -> ``lstm_threshold_tuned.html``); the link text keeps the column's real name.
    """
    return (re.sub(r"[^A-Za-z0-9._+-]+", "_", str(column)).strip("._-") or "column") + ".html"


def render_tearsheet(
    returns: pd.DataFrame,
    column: str,
    benchmark: str | None = BENCHMARK,
    *,
    periods_per_year: float | None = None,
    mode: str = "compound",
    facts: list[tuple[str, str]] | None = None,
) -> str:
    """The HTML of one tear sheet.

    Parameters
    ----------
    returns : pandas.DataFrame
        Per-row net returns of ``column`` (and ``benchmark``), indexed by sorted timestamps.
    column, benchmark : str
        The column the page is about, and the benchmark column (None for none).
    periods_per_year : float, optional
        The backtest's explicit value; None when the engine inferred it (it is inferred again, by the same rule).
    mode : {"compound", "additive"}
        The backtest's mode (how event-time returns are compounded onto the clock).
    facts : list of (str, str), optional
        Lines for the page's header (data, costs, ...).

    Raises
    ------
    TypeError
        ``returns`` is not a DataFrame.
    ImportError
        quantstats is not installed.
    ValueError
        A column is missing, or the returns cannot be put on a clock (:func:`signalbench.reports.clock.clock_returns`).
    """
    if not isinstance(returns, pd.DataFrame):
        raise TypeError(expected("returns", "a pandas DataFrame of per-row returns (one column per label)", returns))
    qs = load_quantstats()
    if qs is None:
        raise ImportError(MISSING)
    for name, label in ((column, "column"), (benchmark, "benchmark")):
        if name is not None and name not in returns.columns:
            cols = [str(c) for c in returns.columns]
            raise ValueError(expected(label, f"a column of the returns ({cols})", name) + did_you_mean(name, cols))
    cr = clock_returns(returns[[column] + ([benchmark] if benchmark else [])], periods_per_year, mode)
    sec = Sections()
    with _quiet():
        metric_rows(qs, cr, column, benchmark, sec)
        sec.drawdowns = drawdown_table(qs, cr.returns[column])
        figures(qs, cr, column, benchmark, sec)
    if not sec.drawdowns:
        sec.omitted.append(("Worst drawdowns", f"{column} never drew down on the tested span"))
    if cr.resampled:
        sec.notes.append(_event_drawdown_note(returns[column], cr.bar, mode))
    head = [
        ("benchmark", benchmark or "none"),
        ("tested span", f"{_stamp(returns.index[0])} to {_stamp(returns.index[-1])} ({len(returns)} rows)"),
        (
            "clock",
            f"{cr.rule}; {len(cr.returns)} {cr.bar}s" + (" (event time compounded per minute)" if cr.resampled else ""),
        ),
        ("periods per year", f"{cr.periods_per_year:g} (the engine's, passed to every quantstats function)"),
    ]
    return _template().render(
        column=column, benchmark=benchmark, facts=head + list(facts or []), sec=sec, version=qs.__version__
    )


def _stamp(value: Any) -> str:
    """A timestamp to the millisecond (event times carry nanoseconds nobody reads)."""
    return pd.Timestamp(value).isoformat(sep=" ", timespec="milliseconds")


def _event_drawdown_note(r: pd.Series, bar: str, mode: str) -> str:
    """Why the tear sheet's drawdowns differ from the report's: they are measured on the clock, not on every event."""
    values = r.to_numpy(dtype=np.float64)
    equity = (1.0 + values).cumprod() if mode == "compound" else 1.0 + values.cumsum()
    deepest = float((equity / np.maximum(1.0, np.maximum.accumulate(equity)) - 1.0).min())
    return (
        f"Drawdowns on this page (table, chart, max drawdown) are measured on the {bar}s the returns were compounded "
        f"onto, so a dip and recovery within one {bar} does not show; on every event, as in the report's max_drawdown, "
        f"the deepest drawdown is {deepest:.3%}."
    )


def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("signalbench.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("tearsheet.html.j2")


def tearsheet(result: Any, path: str | Path, column: Any, benchmark: Any = "auto") -> Path:
    """Write the tear sheet of one column of a backtest to ``path`` (atomically); returns the path.

    Parameters
    ----------
    result : signalbench.engine.backtest.BacktestResult
        A backtest on pandas input with a time index.
    path : str or path
        The HTML file to write.
    column : label
        The column the page is about.
    benchmark : label, None or "auto"
        The benchmark column; "auto" takes ``buy_and_hold`` when the result has one, else none.

    Raises
    ------
    ImportError
        quantstats is not installed.
    ValueError
        ``column`` or ``benchmark`` is not a column, or the result has no time index.
    """
    frame = result.returns
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame) if isinstance(frame, pd.Series) else None
    if frame is None:
        raise ValueError(expected("result", "a backtest of pandas input with a time index", "NumPy arrays", raw=True))
    if benchmark == "auto":
        benchmark = BENCHMARK if BENCHMARK in frame.columns and column != BENCHMARK else None
    explicit = result.periods_per_year if result.clock == "explicit" else None
    facts = [("costs", ", ".join(f"{k} {v}" for k, v in result.params.items() if not hasattr(v, "__len__")))]
    html = render_tearsheet(frame, column, benchmark, periods_per_year=explicit, mode=result.mode, facts=facts)
    return write_text(Path(path), html)


def build_tearsheets(run_dir: str | Path) -> dict[str, Any]:
    """Write ``run_dir/tearsheets/<column>.html`` for every model x strategy column (the folder is replaced at once).

    Returns
    -------
    dict
        ``{"error": str or None, "sheets": [{"column", "href", "error"}]}``: ``error`` says why there are no tear
        sheets at all (quantstats missing), a sheet's ``error`` why that one could not be drawn.
    """
    run_dir = Path(run_dir)
    if load_quantstats() is None:
        return {"error": MISSING, "sheets": []}
    metrics = metrics_of(run_dir, columns=True)
    config = config_of(run_dir) or {}
    returns = read_table(run_dir, "returns.parquet")
    index = pd.Index(returns["timestamp"]) if "timestamp" in returns else returns.index  # never ints read as dates
    returns = returns.set_axis(index, axis=0)
    bench = set(metrics.get("benchmarks", []))
    columns = [c for c in metrics["columns"] if c not in bench and c in returns]
    benchmark = BENCHMARK if BENCHMARK in returns else None
    facts = [("data", str(metrics.get("data", ""))), ("costs", _costs(config))]
    sheets = []
    with atomic_dir(run_dir / "tearsheets", overwrite=True) as tmp:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the folder gets what mkdir would have given it
        used: set[str] = set()
        for col in columns:
            name = tearsheet_filename(col)
            k = 1
            while name.lower() in used:  # two columns that differ only in replaced characters (or case)
                k += 1
                name = f"{tearsheet_filename(col)[:-5]}-{k}.html"
            used.add(name.lower())
            try:
                html = render_tearsheet(
                    returns, col, benchmark, periods_per_year=config.get("periods_per_year"), facts=facts
                )
            except ValueError as exc:
                sheets.append({"column": col, "href": None, "error": str(exc)})
                continue
            (tmp / name).write_text(html, encoding="utf-8")
            sheets.append({"column": col, "href": f"tearsheets/{name}", "error": None})
    return {"error": None, "sheets": sheets}


def _costs(config: dict[str, Any]) -> str:
    costs = config.get("costs") or {}
    return ", ".join(f"{k} {v}" for k, v in costs.items() if v is not None) or "not recorded"
