"""A multi-piece experiment (several symbols or days, or a day split): its graph run, combined into a run folder.

:func:`run_pieces` is what :func:`signalbench.experiment.compare` calls when the data hold more than one piece or the
split is by day. The run folder is created at the start with ``config.json`` (the resolved experiment), so
``signalbench run --resume RUN`` re-reads it and computes only the tasks missing from its task store (default
``RUN/tasks``, or ``[compute] cache`` / ``--cache``). At the end the result files are built in a hidden folder inside
it and moved into place one by one, ``metrics.json`` last: a run folder with ``metrics.json`` is complete.

The run folder of a multi-piece run (``metrics.json`` ``"kind": "pieces"``): ``metrics.json`` with the ``pieces``,
``per_symbol``, ``per_day``, ``pooled`` and ``daily`` blocks (:mod:`signalbench.experiment.combine`), and a
``columns`` table holding the pooled figures (what the single-run readers show); ``returns.parquet`` holds the daily
pooled returns (one row per tested day) where a single run holds its tested rows, ``positions.parquet`` each
column's mean position per day (over its symbols' tested rows); ``piece_returns.parquet`` the net return of every
tested row of every piece (``symbol``, ``day``, ``timestamp`` and one column per model x strategy and benchmark);
``history/<model>.json`` (``<model>@<group>`` per pool group) each fold's training history of the models that
train in epochs; ``fits.json`` the pieces and rows each fit was given (:mod:`signalbench.experiment.piecefits`) and
``audit.json`` the leakage audit made at the end of the run (:mod:`signalbench.experiment.pieceaudit`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signalbench.experiment.config import ConfigError, Experiment, ModelSpec

__all__ = [
    "PiecesResult",
    "compare_pieces",
    "is_multi_piece",
    "read_run_config",
    "resolved_config",
    "validate_pieces",
]


@dataclass
class PiecesResult:
    """What a multi-piece run produced (all of it is also in its run folder)."""

    experiment: Experiment
    metrics: dict[str, Any]
    run_dir: Path | None
    graph: Any = field(repr=False, default=None)
    run: Any = field(repr=False, default=None)
    audit: Any = None

    @property
    def ok(self) -> bool:
        """Whether every piece was priced (nothing is missing)."""
        return not self.metrics["pieces"]["missing"]

    @property
    def notes(self) -> list[str]:
        """Every note of the run."""
        return list(self.metrics.get("notes", []))


def is_multi_piece(exp: Experiment, pieces: list[Any]) -> bool:
    """Whether ``exp`` runs as a graph of pieces: a split by day, several symbols, or several days of globbed files.

    One symbol's days on a row split keep the single-run path where it reads them (synthetic days, one bars file, a
    LOBSTER list of named files: its folds already respect the days); globs and several bars files go through the
    graph.
    """
    import glob

    if exp.split.by_day or len({p.symbol for p in pieces}) > 1:
        return True
    if len(pieces) <= 1 or exp.data.kind == "synthetic":
        return False
    paths = exp.data.path if isinstance(exp.data.path, list) else [exp.data.path]
    if any(glob.has_magic(p) for p in paths):  # the single-run loaders read named files only
        return True
    return exp.data.kind == "bars" and len(paths) > 1


def _problems(exp: Experiment, pieces: list[Any]) -> list[tuple[str, str]]:
    """What a multi-piece run cannot do with these pieces, at its place in the config."""
    from signalbench.experiment.piecefolds import fold_members, pool_groups

    out = []
    if exp.split.by_day and any(s.tune for s in exp.strategies):
        groups = pool_groups(exp.split, [p.symbol for p in pieces])
        group_of = {i: name for name, ids in groups.items() for i in ids}
        for k, members in enumerate(fold_members(exp.split, [p.day for p in pieces])):
            tested = {group_of[m.piece] for m in members if m.role == "test"}
            lacking = sorted(tested - {group_of[m.piece] for m in members if m.role == "val"})
            if lacking:
                i = next(i for i, s in enumerate(exp.strategies) if s.tune)
                why = "tuning chooses on the validation days; give split.val_days >= 1 or drop tune"
                where = f"fold {k + 1} (pool group {', '.join(lacking)})"
                out.append((f"strategies[{i}].tune", f"expected validation days in {where}, got none; {why}"))
                break
    if exp.costs.model == "book":
        for p in pieces:
            if p.source.get("kind") == "bars":
                why = "each piece is executed on its own order book; give LOBSTER or synthetic data, or linear costs"
                out.append(("costs.model", f"expected pieces with an order book, got bars at piece {p.id}; {why}"))
                break
    return out


def _specs_and_longest(exp: Experiment, pieces: list[Any]) -> tuple[list[ModelSpec], int, list[str], dict]:
    """The models that run (a default baseline that cannot use the features is skipped), their longest window."""
    from types import SimpleNamespace

    from signalbench.data.pieces import load_piece
    from signalbench.experiment import preflight
    from signalbench.experiment.tasks import book_frame

    first = load_piece(pieces[0], exp.features, spread=False)
    problems: list = []
    skipped: list[str] = []
    built = preflight._models(exp, SimpleNamespace(features=first.features), problems, skipped)
    if exp.costs.model == "book" and book_frame(first.frame) is None:
        why = "each piece is executed on its own order book (ask_price_1, ask_size_1, bid_price_1, bid_size_1)"
        problems.append(("costs.model", f"expected pieces with an order book, got none at piece {pieces[0].id}; {why}"))
    if problems:
        raise ConfigError(f"experiment {exp.name!r}", problems)
    specs = [s for s, _ in built]
    resolved = {s.column: m.get_params() for s, m in built}
    return specs, max((m.window for _, m in built), default=1), skipped, resolved


def _check_days(exp: Experiment, pieces: list[Any]) -> None:
    from signalbench.experiment.piecefolds import fold_members

    try:
        folds = fold_members(exp.split, [p.day for p in pieces])
    except ValueError as exc:
        loc, _, msg = str(exc).partition(": ")
        raise ConfigError(f"experiment {exp.name!r}", [(loc, msg)]) from None
    for k, members in enumerate(folds):
        if not any(m.role in ("train", "rows") for m in members):
            raise ConfigError(f"experiment {exp.name!r}", [("split", f"fold {k + 1} has no training day")])


def validate_pieces(exp: Experiment, pieces: list[Any]) -> str:
    """The checks of a multi-piece run that need no fitting (the folds on the days found, the models on a piece).

    Returns a one-paragraph summary: the pieces, the folds' days and the models' longest window.
    """
    from signalbench.experiment.piecefolds import fold_members

    _check_days(exp, pieces)
    problems = _problems(exp, pieces)
    if problems:
        raise ConfigError(f"experiment {exp.name!r}", problems)
    specs, longest, _, _ = _specs_and_longest(exp, pieces)
    folds = fold_members(exp.split, [p.day for p in pieces])
    parts = []
    for k, members in enumerate(folds):
        days = {r: sorted({pieces[m.piece].day for m in members if m.role == r}) for r in ("train", "val", "test")}
        if exp.split.by_day:
            parts.append(
                f"fold {k + 1}: train {len(days['train'])} day(s), val {len(days['val'])}, test "
                f"{', '.join(days['test'])}"
            )
    symbols = sorted({p.symbol for p in pieces})
    head = (
        f"{len(pieces)} pieces: {len(symbols)} symbol(s) ({', '.join(symbols)}) x "
        f"{len({p.day for p in pieces})} day(s); {len(specs)} models, longest window {longest}; "
        f"pool = {exp.split.pool!r}; {len(folds)} fold(s)"
    )
    return "; ".join([head, *parts])


def store_root(exp: Experiment, run_dir: Path, cache: str | Path | None) -> Path:
    """The task store's folder: ``cache`` (``--cache``), else ``[compute] cache``, else ``RUN/tasks``."""
    if cache is not None:
        return Path(cache)
    if exp.compute.cache is not None:
        return Path(exp.resolve(exp.compute.cache))
    return run_dir / "tasks"


def compare_pieces(
    exp: Experiment,
    pieces: list[Any],
    *,
    out: str | Path | None = None,
    runs_root: str | Path = "runs",
    progress: bool = False,
    report: bool = True,
    cache: str | Path | None = None,
    resume: bool = False,
) -> PiecesResult:
    """Run ``exp`` over ``pieces`` as a task graph; see the module docstring.

    With ``resume`` the run folder ``out`` exists (its ``config.json`` gave ``exp``) and only missing tasks run.
    """
    from signalbench.compute import TaskStore, run_graph
    from signalbench.experiment.graph import build_graph
    from signalbench.experiment.piecefiles import write_results
    from signalbench.experiment.runfolder import check_destination, default_run_dir

    _check_days(exp, pieces)
    problems = _problems(exp, pieces)
    if problems:
        raise ConfigError(f"experiment {exp.name!r}", problems)
    specs, longest, skipped, resolved = _specs_and_longest(exp, pieces)
    if resume:
        run_dir = Path(out)
    else:
        check_destination(out, runs_root)
        run_dir = Path(out) if out is not None else default_run_dir(exp.name, runs_root)
        start_run_folder(exp, run_dir, resolved_config(exp, resolved))
    graph = build_graph(exp, pieces, longest, specs)
    store = TaskStore(store_root(exp, run_dir, cache))
    c = exp.compute
    run = run_graph(
        graph.tasks,
        store,
        executor=c.executor,
        workers=c.workers,
        address=c.address,
        fail_fast=c.fail_fast,
        progress=progress,
    )
    metrics, audit = write_results(
        exp,
        pieces,
        graph,
        run,
        store,
        run_dir,
        skipped,
        report=report,
        audit=_auditor(exp, pieces, graph, store, longest),
    )
    audit.warn(stacklevel=3)
    return PiecesResult(exp, metrics, run_dir, graph, run, audit)


def _auditor(exp: Experiment, pieces: list[Any], graph: Any, store: Any, longest: int) -> Any:
    """What :func:`~signalbench.experiment.piecefiles.write_results` calls with the metrics: fits.json and the audit.

    ``fits.json`` (:mod:`signalbench.experiment.piecefits`) and the leakage audit of the run
    (:mod:`signalbench.experiment.pieceaudit`) are built from the task store.
    """
    from signalbench.experiment.pieceaudit import audit_pieces
    from signalbench.experiment.piecefits import load_pieces, piece_keys, pieces_fits

    def audit(metrics: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        loaded = load_pieces(store, piece_keys(graph))
        fits = pieces_fits(exp, pieces, graph, store, loaded, longest)
        return fits, audit_pieces(exp, pieces, fits, store, metrics, loaded, longest)

    return audit


def resolved_config(exp: Experiment, resolved: dict[str, Any]) -> dict[str, Any]:
    """``config.json``: the experiment with defaults filled in, its data folder and each model's parameters."""
    out = exp.model_dump(mode="json")
    out["base_dir"] = str(Path(exp.base_dir).resolve())
    out["models_resolved"] = resolved
    return out


def read_run_config(run_dir: str | Path) -> Experiment:
    """The experiment of a run folder's ``config.json`` (what ``--resume`` runs again)."""
    from signalbench.experiment.config import parse_experiment

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"--resume: expected a run folder with config.json, got none at {path}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    base = raw.pop("base_dir", ".")
    raw.pop("models_resolved", None)
    return parse_experiment(raw, source=str(path), base_dir=base)


def start_run_folder(exp: Experiment, run_dir: Path, resolved_config: dict[str, Any]) -> None:
    """Create ``run_dir`` with ``config.json`` (what ``--resume`` reads); refuses a folder that exists."""
    from signalbench._atomic import atomic_dir
    from signalbench.experiment.runfolder import environment, write_json

    with atomic_dir(run_dir) as tmp:
        write_json(tmp / "config.json", resolved_config)
        write_json(tmp / "environment.json", environment(exp.device))
