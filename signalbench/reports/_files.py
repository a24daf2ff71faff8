"""Reading a run folder's files for the reports, through the one checked reader :mod:`signalbench._runfiles`.

Every JSON file is checked against its declared shape and a parquet file that cannot be read is named, so a damaged
folder ends in one :class:`signalbench._runfiles.RunFolderError` naming the file and the key
(``docs/architecture.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from signalbench._runfiles import AUDIT, CONFIG, HISTORY, REPORTED, RunFolderError, read_json
from signalbench._validation import expected

__all__ = ["TABLES", "audit_of", "check_run", "config_of", "histories_of", "metrics_of", "read_json", "read_parquet"]


def metrics_of(run_dir: Path) -> dict[str, Any]:
    """``metrics.json`` of ``run_dir``, checked (it holds a ``columns`` table; numbers are numbers)."""
    return read_json(Path(run_dir) / "metrics.json", REPORTED)


def config_of(run_dir: Path) -> dict[str, Any] | None:
    """``config.json`` of ``run_dir``, checked; None when the folder has none."""
    return read_json(Path(run_dir) / "config.json", CONFIG, required=False)


def audit_of(run_dir: Path) -> dict[str, Any] | None:
    """``audit.json`` of ``run_dir``, checked; None when the folder has none."""
    return read_json(Path(run_dir) / "audit.json", AUDIT, required=False)


def histories_of(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The training history of every model that has one (``history/<model>.json``; walk-forward: the last fold's)."""
    out = {}
    for path in sorted((Path(run_dir) / "history").glob("*.json")):
        h = read_json(path, HISTORY)
        if isinstance(h, list) and h and (h[0] is None or isinstance(h[0], list)):  # one history per fold
            h = h[-1]
        if h:
            out[path.stem] = h
    return out


#: The parquet tables of a run folder that the report reads.
TABLES = ("returns.parquet", "positions.parquet", "predictions.parquet")


def check_run(run_dir: Path) -> None:
    """Check every file the report reads (the JSON files whole, the tables' footers), before anything is written."""
    metrics_of(run_dir)
    config_of(run_dir)
    audit_of(run_dir)
    histories_of(run_dir)
    for name in TABLES:
        read_parquet(Path(run_dir) / name, columns=[])


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The table of a parquet file of the run folder (only ``columns`` when given: ``[]`` reads just its footer).

    Raises
    ------
    FileNotFoundError
        When the file is missing.
    RunFolderError
        When it cannot be read (not a parquet file, truncated, a folder).
    """
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
