"""Reading a run folder: every reader (reports, audit, streaming) goes through these functions.

Each first checks the folder's layout (:func:`signalbench._runfolder.layout.run_record`: layout 1 and 2 open, a later
one is a :class:`RunFolderError` naming the version), then reads the file through the checked reader of
:mod:`signalbench._runfiles`, so a damaged folder ends in one :class:`RunFolderError` naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from signalbench._runfiles import AUDIT, CONFIG, FITS, HISTORY, METRICS, REPORTED, RunFolderError, read_json
from signalbench._runfolder.layout import parse_model_folder, run_record
from signalbench._validation import expected

__all__ = [
    "TABLES",
    "audit_of",
    "check_run",
    "config_of",
    "fits_of",
    "fold_of_model",
    "histories_of",
    "metrics_of",
    "model_folders",
    "read_table",
    "run_of_model",
]

#: The parquet tables of a run folder.
TABLES = ("returns.parquet", "positions.parquet", "predictions.parquet")


def metrics_of(run_dir: str | Path, *, columns: bool = False, required: bool = True) -> dict[str, Any] | None:
    """``metrics.json`` of ``run_dir``, checked (a ``columns`` table when ``columns``); None: missing, not required."""
    run_record(run_dir)
    return read_json(Path(run_dir) / "metrics.json", REPORTED if columns else METRICS, required=required)


def config_of(run_dir: str | Path, *, required: bool = False) -> dict[str, Any] | None:
    """``config.json`` of ``run_dir``, checked; None when the folder has none (and it is not ``required``)."""
    run_record(run_dir)
    return read_json(Path(run_dir) / "config.json", CONFIG, required=required)


def audit_of(run_dir: str | Path) -> dict[str, Any] | None:
    """``audit.json`` of ``run_dir``, checked; None when the folder has none."""
    run_record(run_dir)
    return read_json(Path(run_dir) / "audit.json", AUDIT, required=False)


def fits_of(run_dir: str | Path) -> dict[str, Any] | None:
    """``fits.json`` of ``run_dir`` (the rows each fit was given), checked; None when the folder has none."""
    run_record(run_dir)
    return read_json(Path(run_dir) / "fits.json", FITS, required=False)


def histories_of(run_dir: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The training history of every model that has one (``history/<model>.json``; walk-forward: the last fold's)."""
    run_record(run_dir)
    out = {}
    for path in sorted((Path(run_dir) / "history").glob("*.json")):
        h = read_json(path, HISTORY)
        if isinstance(h, list) and h and (h[0] is None or isinstance(h[0], list)):  # one history per fold
            h = h[-1]
        if h:
            out[path.stem] = h
    return out


def model_folders(run_dir: str | Path) -> dict[str, dict[int, Path]]:
    """The saved models of ``run_dir``: model name -> fold (1-based) -> its folder under ``models/``.

    Layout 2 names each folder's model and fold in ``run.json``; layout 1 by :func:`parse_model_folder`.
    """
    recorded = run_record(run_dir).get("models", {})
    found: dict[str, dict[int, Path]] = {}
    root = Path(run_dir) / "models"
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        entry = recorded.get(path.name)
        name, fold = (entry["model"], entry["fold"]) if entry else parse_model_folder(path.name)
        found.setdefault(name, {})[fold] = path
    return found


def run_of_model(model_dir: str | Path) -> Path | None:
    """The run folder a saved model belongs to (``RUN_DIR/models/NAME`` with a ``config.json``); None outside one."""
    model_dir = Path(model_dir)
    run = model_dir.parent.parent
    if model_dir.parent.name != "models" or not (run / "config.json").is_file():
        return None
    run_record(run)
    return run


def fold_of_model(model_dir: str | Path | None) -> int:
    """The fold (0-based) whose fit a saved model folder holds; 0 for a model outside a run folder."""
    if model_dir is None:
        return 0
    model_dir = Path(model_dir)
    run = run_of_model(model_dir)
    entry = run_record(run).get("models", {}).get(model_dir.name) if run is not None else None
    return (entry["fold"] if entry else parse_model_folder(model_dir.name)[1]) - 1


def check_run(run_dir: str | Path) -> None:
    """Check every file the report reads (the JSON files whole, the tables' footers), before anything is written."""
    metrics_of(run_dir, columns=True)
    config_of(run_dir)
    audit_of(run_dir)
    histories_of(run_dir)
    for name in TABLES:
        read_table(run_dir, name, columns=[])


def read_table(run_dir: str | Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The table ``name`` (``returns.parquet``, ...) of ``run_dir``: only ``columns`` when given (``[]``: the footer).

    Raises
    ------
    FileNotFoundError
        When the file is missing.
    RunFolderError
        When it cannot be read (not a parquet file, truncated, a folder), or the folder's layout is not one this code
        reads.
    """
    run_record(run_dir)
    path = Path(run_dir) / name
    if not path.exists():
        raise FileNotFoundError(
            expected("run_dir", f"a run folder with {path.name}", "no such file", at=str(path.parent), raw=True)
        )
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow's errors have no common base with OSError / ValueError across versions
        found = f"{type(exc).__name__} ({exc})"
        message = expected(path.name, "a readable parquet table", found, at=str(path), raw=True)
        raise RunFolderError(message, path) from None
