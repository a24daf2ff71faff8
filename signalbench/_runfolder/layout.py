"""The run folder's layout: its files, its version number, and the one rule that names and parses model folders.

Layout 2 (this version) adds ``run.json``: ``{"layout": 2, "models": {"<folder>": {"model": name, "fold": k}}}``,
the layout number and, for every folder under ``models/``, the model and the fold (1-based) whose fit it holds. A
folder of layout 1 (no ``run.json``, written before the number existed) still opens: its model folders are parsed by
:func:`parse_model_folder`. A folder of a later layout than :data:`VERSION` is a :class:`RunFolderError` naming the
version and what this code reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from signalbench._runfiles import RUN, RunFolderError, read_json
from signalbench._validation import expected

__all__ = ["FILES", "VERSION", "layout_of", "model_folder", "parse_model_folder", "run_record"]

#: The layout this code writes (and the newest it reads).
VERSION = 2

#: The files of a finished run folder (``signalbench/_runfolder/__init__.py`` describes each).
FILES = (
    "run.json",
    "config.json",
    "environment.json",
    "metrics.json",
    "metrics.csv",
    "fits.json",
    "predictions.parquet",
    "positions.parquet",
    "returns.parquet",
    "models",
    "history",
    "audit.json",
)

_FOLD = re.compile(r"^(?P<name>.+)-fold(?P<k>[1-9][0-9]*)$")


def model_folder(name: str, k: int, n_folds: int) -> str:
    """The folder under ``models/`` of model ``name``'s fit of fold ``k`` (0-based) out of ``n_folds``."""
    return name if n_folds == 1 else f"{name}-fold{k + 1}"


def parse_model_folder(folder: str) -> tuple[str, int]:
    """``(model, fold)`` (fold 1-based) of a folder name under ``models/``: ``<name>-fold<k>``, else ``(folder, 1)``.

    The rule of layout 1, which cannot tell a model named ``x-fold2`` of a one-fold run from fold 2 of ``x``; layout 2
    records the pair in ``run.json`` (:func:`run_record`), which the readers prefer.
    """
    match = _FOLD.match(folder)
    return (match["name"], int(match["k"])) if match else (folder, 1)


def run_record(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of ``run_dir``, checked; a folder of layout 1 (no ``run.json``) reads as ``{"layout": 1}``.

    Raises
    ------
    RunFolderError
        When ``run.json`` is damaged, or records a layout newer than this code reads (the message names both).
    """
    path = Path(run_dir) / "run.json"
    if not os.path.lexists(path):
        return {"layout": 1}
    record = read_json(path, RUN)
    if not 1 <= record["layout"] <= VERSION:
        message = expected(
            "run.json layout",
            f"a run folder layout from 1 to {VERSION} (what this version of signalbench reads)",
            f"layout {record['layout']}",
            at=str(path),
            hint="the folder was written by another version of signalbench: read it with that version, or upgrade",
            raw=True,
        )
        raise RunFolderError(message, path, "layout")
    return record


def layout_of(run_dir: str | Path) -> int:
    """The layout number of ``run_dir`` (1 when it has no ``run.json``); a future layout is a RunFolderError."""
    return int(run_record(run_dir)["layout"])
