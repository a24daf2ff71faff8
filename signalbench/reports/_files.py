"""Reading a run folder's files for the reports, with errors that name the file (``docs/architecture.md``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from signalbench._validation import expected

__all__ = ["metrics_of", "read_json", "read_parquet"]


def read_json(path: Path, required: bool = True) -> Any:
    """The JSON of ``path``; None when it is missing and not ``required``."""
    if not path.exists():
        if required:
            raise FileNotFoundError(
                expected("run_dir", f"a run folder with {path.name}", "no such file", at=str(path.parent), raw=True)
            )
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            expected(path.name, "valid JSON", f"{exc.msg} at line {exc.lineno}", at=str(path), raw=True)
        ) from None


def read_parquet(path: Path) -> pd.DataFrame:
    """The table of a parquet file of the run folder."""
    if not path.exists():
        raise FileNotFoundError(
            expected("run_dir", f"a run folder with {path.name}", "no such file", at=str(path.parent), raw=True)
        )
    return pd.read_parquet(path)


def metrics_of(run_dir: Path) -> dict[str, Any]:
    """``metrics.json`` of ``run_dir``, checked to hold a ``columns`` table."""
    metrics = read_json(run_dir / "metrics.json")
    if not isinstance(metrics, dict) or not isinstance(metrics.get("columns"), dict):
        raise ValueError(
            expected("metrics.json", "an object with a 'columns' table", "something else", at=str(run_dir), raw=True)
        )
    return metrics
