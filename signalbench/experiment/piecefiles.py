"""The result files of a multi-piece run (layout: :mod:`signalbench.experiment.multirun`), and its missing pieces."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signalbench._runfolder.write import write_run_record
from signalbench.experiment.combine import DAILY_PERIODS, PieceResult, combine
from signalbench.experiment.runfolder import move_into, scratch, write_json

__all__ = ["missing_pieces", "write_results"]


def as_frame(values: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """A frame of ``values`` with ``timestamp`` and ``row`` first (the single-run tables' layout)."""
    frame = pd.DataFrame(values, index=pd.RangeIndex(len(index)))
    frame.insert(0, "row", np.arange(len(index)))
    frame.insert(0, "timestamp", np.asarray(index))
    return frame


def missing_pieces(pieces: list[Any], graph: Any, run: Any, done: set[int]) -> list[dict[str, Any]]:
    """Every failed task (its tags and error), and every tested piece left unpriced because of one."""
    missing = []
    for failure in run.failed.values():
        entry = {"task": failure.kind, **dict(failure.tags), "error": failure.error}
        if "fold" in entry:
            entry["fold"] = int(entry["fold"])
        missing.append(entry)
    failed = {
        (m.get("symbol"), m.get("day")) for m in missing if m["task"] in ("piece", "labels", "predict", "backtest")
    }
    for i in sorted(set(graph.backtests) - done):
        p = pieces[i]
        if (p.symbol, p.day) not in failed:
            why = "not priced: a task it needs failed" + (" or the run stopped (fail_fast)" if run.skipped else "")
            missing.append({"task": "backtest", "symbol": p.symbol, "day": p.day, "error": why})
    return missing


def _tested(parts: list[PieceResult]) -> list[dict[str, Any]]:
    return [{"symbol": p.symbol, "day": p.day, "rows": int(p.summary["rows"])} for p in parts]


def _columns(blocks: dict[str, Any], info: dict[str, Any], benchmarks: list[str]) -> dict[str, dict[str, Any]]:
    """The ``columns`` table the single-run readers show: each column's description and pooled figures."""
    out = {}
    for col, row in blocks["pooled"].items():
        numbers = {k: v for k, v in row.items() if k not in ("rests_on", "note")}
        out[col] = {"benchmark": col in benchmarks, **info.get(col, {}), **numbers}
        out[col]["total_return_additive"] = row["net_return"]
    return out


def _metrics(exp, pieces, parts, blocks, missing, skipped) -> dict[str, Any]:
    info = parts[0].summary["info"] if parts else {}
    benchmarks = parts[0].summary["benchmarks"] if parts else []
    days = blocks["daily"]["index"] if parts else []
    bayes = None
    absent = sorted({f"{m['symbol']}/{m['day']}" for m in missing if m.get("symbol") and m.get("day")})
    notes = list(skipped) + list(blocks.get("notes", []))
    if absent:
        notes.append(f"{len(absent)} piece(s) absent from the results (see pieces.missing): {', '.join(absent)}")
    rows = int(sum(p.summary["rows"] for p in parts))
    what = f"{len({p.symbol for p in pieces})} symbol(s) x {len({p.day for p in pieces})} day(s): {len(pieces)} pieces"
    labelled = int(sum(p.summary["labelled"] for p in parts))
    return {
        "kind": "pieces",
        "experiment": exp.name,
        "data": what,
        "tested": {
            "rows": rows,
            "labelled_rows": labelled,
            "first": days[0] if days else "",
            "last": days[-1] if days else "",
        },
        "split": {"kind": exp.split.kind, "purge_gap": 0, "folds": [], "pool": exp.split.pool},
        "bayes_accuracy": bayes,
        "benchmarks": benchmarks,
        "periods_per_year": DAILY_PERIODS,
        "clock": "daily (sum over symbols of each symbol-day's net return)",
        "columns": _columns(blocks, info, benchmarks) if parts else {},
        "models": {},
        "notes": notes,
        "pieces": {"tested": _tested(parts), "missing": missing},
        **{k: blocks[k] for k in ("per_symbol", "per_day", "pooled", "daily", "capacity") if k in blocks},
    }


def tuning_block(exp, graph, store) -> list[dict[str, Any]]:
    """Per (model, fold, pool group) and tuned strategy: the parameters chosen ("flat": none) and what they rest on."""
    out = []
    for (model, k, group), key in sorted(graph.tunes.items()):
        if not store.has(key):
            continue
        for i, c in sorted(store.load(key)["choices"].items(), key=lambda ic: int(ic[0])):
            entry = {"model": model, "fold": k + 1, "group": group, "strategy": c["strategy"], "index": int(i)}
            entry.update(chosen=c["params"] if c["params"] is not None else "flat", n_trials=c["n_trials"])
            entry.update(rests_on={**c["rests_on"], "objective": "net return after costs, summed over the pieces"})
            entry["table"] = c["table"]
            out.append(entry)
    return out


def _tuned_columns(metrics: dict[str, Any]) -> None:
    """A tuned column's ``chosen`` and ``tuning``: one entry per (fold, pool group), as ``tuning`` lists them.

    (A piece's own record holds only its group's choices.)
    """
    for row in metrics["columns"].values():
        if row.get("tuned"):
            mine = [e for e in metrics["tuning"] if e["model"] == row["model"] and e["strategy"] == row["strategy"]]
            row["chosen"] = [e["chosen"] for e in mine]
            row["tuning"] = [e["table"] for e in mine]


def _tables(tmp: Path, parts: list[PieceResult], blocks: dict[str, Any]) -> None:
    long = []
    for p in parts:
        r = p.result["returns"]
        frame = r.reset_index(drop=True)
        frame.insert(0, "timestamp", np.asarray(r.index))
        frame.insert(0, "day", p.day)
        frame.insert(0, "symbol", p.symbol)
        long.append(frame)
    pd.concat(long, ignore_index=True).to_parquet(tmp / "piece_returns.parquet")
    days = pd.to_datetime(pd.Index(blocks["daily"]["index"]))
    daily = {"price": np.full(len(days), np.nan), **{c: np.asarray(v) for c, v in blocks["daily"]["returns"].items()}}
    returns = as_frame(daily, days)
    if len(days) < 2:  # one day is no clock: the report's readers then go by row number
        returns = returns.drop(columns="timestamp")
    returns.to_parquet(tmp / "returns.parquet")
    columns = list(blocks["daily"]["returns"])
    by_day = pd.DataFrame([{"day": p.day, **p.summary["mean_position"]} for p in parts]).groupby("day")[columns].mean()
    as_frame({c: by_day[c].to_numpy() for c in columns}, days).to_parquet(tmp / "positions.parquet")
    as_frame({}, days).to_parquet(tmp / "predictions.parquet")


def write_results(exp, pieces, graph, run, store, run_dir: Path, skipped, *, report: bool, audit=None) -> tuple:
    """Combine the priced pieces and write the result files into ``run_dir`` (``metrics.json`` last).

    ``audit``, given the metrics, returns ``(fits, report)``: ``fits.json`` and the leakage audit, written before
    ``report.html`` is built (so it shows the audit). Returns the metrics and the audit's report (None without one).
    """
    from signalbench.reports.html import build_report

    done = {i for i, key in graph.backtests.items() if store.has(key)}
    parts = [PieceResult(pieces[i].symbol, pieces[i].day, store.load(graph.backtests[i])) for i in sorted(done)]
    missing = missing_pieces(pieces, graph, run, done)
    blocks = combine(parts) if parts else {}
    metrics = _metrics(exp, pieces, parts, blocks, missing, skipped)
    if graph.tunes:
        metrics["tuning"] = tuning_block(exp, graph, store)
        _tuned_columns(metrics)
    fits, checked = audit(metrics) if audit is not None else (None, None)
    tmp = scratch(run_dir)
    try:
        if not parts:
            report = False
        else:
            _tables(tmp, parts, blocks)
            table = pd.DataFrame(
                {
                    c: {k: v for k, v in row.items() if not isinstance(v, dict | list)}
                    for c, row in metrics["columns"].items()
                }
            )
            table.to_csv(tmp / "metrics.csv", index_label="metric")
        write_run_record(tmp, {})  # run.json: the layout number (a multi-piece run keeps its models in the task store)
        _histories(tmp, graph, store)
        if fits is not None:
            write_json(tmp / "fits.json", fits)
            checked.write(tmp)
        write_json(tmp / "metrics.json", metrics)
        if report:
            for name in ("config.json", "environment.json"):
                (tmp / name).write_bytes((run_dir / name).read_bytes())
            build_report(tmp, tearsheets=False)
        move_into(tmp, run_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return metrics, checked


def _histories(tmp: Path, graph, store) -> None:
    """``history/<model>.json`` (``<model>@<group>`` with several pool groups): each fold's training history, in order.

    Read from the fits in the task store (a fit that did not finish has none); models without epochs write nothing.
    """
    groups = {group for (_, _, group) in graph.fits}
    found: dict[str, dict[int, Any]] = {}
    for (column, fold, group), key in sorted(graph.fits.items()):
        if not store.has(key):
            continue
        history = getattr(store.load(key)["model"], "history_", None)
        if isinstance(history, list) and history:
            name = column if len(groups) == 1 else f"{column}@{group}"
            found.setdefault(name, {})[fold] = history
    if not found:
        return
    (tmp / "history").mkdir(exist_ok=True)
    for name, folds in found.items():
        ordered = [folds[k] for k in sorted(folds)]
        write_json(tmp / "history" / f"{name}.json", ordered if len(ordered) > 1 else ordered[0])
