"""The service's reads of a run folder, in one place: each is a call of the run folder's checked readers.

A damaged file ends in one :class:`signalbench.RunFolderError` naming the file and the key. When the run folder's
reading moves into its one owner module, only this file changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signalbench import _runfiles as rf


def metrics(run_dir: Path) -> dict[str, Any]:
    """``metrics.json`` with its ``columns`` table."""
    return rf.read_json(run_dir / "metrics.json", rf.REPORTED)


def config(run_dir: Path) -> dict[str, Any]:
    """``config.json`` (the resolved experiment)."""
    return rf.read_json(run_dir / "config.json", rf.CONFIG)


def environment(run_dir: Path) -> dict[str, Any]:
    """``environment.json`` ({} when the folder has none)."""
    return rf.read_json(run_dir / "environment.json", rf.mapping, required=False) or {}


def histories(run_dir: Path) -> dict[str, Any]:
    """``history/<model>.json`` of every model that has one: null, a list of epochs, or one such list per fold."""
    folder = run_dir / "history"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return {path.stem: rf.read_json(path, rf.HISTORY) for path in paths}


def saved_models(run_dir: Path) -> dict[str, dict[str, Any]]:
    """``{folder name: its model.json}`` of every saved model under ``models/``."""
    root = run_dir / "models"
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return {folder.name: rf.read_json(folder / "model.json", rf.mapping) for folder in folders}


def net_returns(run_dir: Path, columns: list[str]):
    """The net returns of ``columns`` on the tested rows (``returns.parquet``), or None without that table."""
    from signalbench._runfolder import read_table

    path = run_dir / "returns.parquet"
    return read_table(run_dir, "returns.parquet", columns) if path.is_file() else None
