"""The run folder: everything an experiment produced, written atomically, in a documented layout.

Layout (``runs/<name>-<UTC timestamp>/``, or the folder given with ``--out``)::

    config.toml          the experiment as given (a copy of the file, when run from one)
    config.json          the resolved experiment: every default filled in, the seed and device actually used
    environment.json     Python and package versions, git commit (when the code is a git checkout), device, threads
    metrics.json         {"columns": {column: {...}}, "benchmarks": [...], "models": {model: {...}},
                          "split": {...}, "notes": [...], "bayes_accuracy": ...}: classification and trading metrics
    metrics.csv          the same metrics as a table: one row per metric, one column per model x strategy
    fits.json            {"format": 1, "folds": [...], "models": {model: [per fold: {"fold", "train", "val",
                         "predict"}]}}: the split as used and the rows given to each fit and prediction
                         (:mod:`signalbench.experiment.fits`): what the audit judges the models against
    predictions.parquet  tested rows: label, and each model's class probabilities (``<model>:p0``, ``:p1``, ``:p2``)
    positions.parquet    tested rows: the target position of every column (benchmarks included)
    returns.parquet      tested rows: the traded price, each column's net return and its gross return (``gross:<col>``)
    models/<model>/      each fitted model, loadable with ``signalbench.load_model``
    history/<model>.json each model's training history (per epoch: train and validation loss and accuracy)
    audit.json           the leakage audit (:mod:`signalbench.audit`): the checks that ran and every finding
    report.html          the self-contained HTML report (:mod:`signalbench.reports.html`), unless ``report=False``
    tearsheets/          one quantstats tear sheet per model x strategy column, ``<column>.html``
                         (:mod:`signalbench.reports.tearsheets`; needs the ``reports`` extra), unless ``report=False``

The folder is built under a hidden temporary name next to its destination and renamed into place as the very last
step, so a failed or interrupted run (Ctrl-C included) leaves nothing that looks finished: the temporary folder is
removed on any exception, and a process killed outright leaves only a hidden ``.<name>.tmp-*`` folder.
The reports and the audit read only this folder, so they can be rebuilt without retraining; they read its JSON files
through :mod:`signalbench._runfiles` (each file's declared shape, a :class:`signalbench.RunFolderError` naming the file
and the key when it is damaged). :func:`check_destination` refuses, before anything is fitted, a destination that
exists or cannot be written.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from signalbench._runfiles import written

__all__ = [
    "LAYOUT",
    "check_destination",
    "default_run_dir",
    "environment",
    "model_folder",
    "run_folder",
    "to_jsonable",
    "write_json",
]

#: The files of a finished run folder (see the module docstring).
LAYOUT = (
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

_PACKAGES = ("signalbench", "numpy", "pandas", "numba", "torch", "scipy", "pyarrow", "pydantic", "scikit-learn")


def default_run_dir(name: str, root: str | Path = "runs", now: dt.datetime | None = None) -> Path:
    """``runs/<name>-<UTC timestamp>`` (to the second; a suffix is added if it exists already)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = Path(root) / f"{name}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = Path(root) / f"{name}-{stamp}-{k}"
    return path


def check_destination(out: str | Path | None, runs_root: str | Path = "runs") -> None:
    """Fail now, before anything is fitted, when the run folder could not be written at the end.

    ``out`` (or, without it, ``runs_root``) is checked: ``out`` must not exist, and a folder must be creatable where
    it goes (a hidden probe folder is made in the nearest existing folder above it and removed; nothing is left).

    Raises
    ------
    FileExistsError
        When ``out`` exists already.
    signalbench.RunFolderError
        When the folder cannot be written (no permission, a read-only or full file system, a file in the way).
    """
    if out is not None and os.path.lexists(out):
        raise FileExistsError(f"run folder {out} exists already; choose another --out")
    parent = Path(out).parent if out is not None else Path(runs_root)
    existing = next((p for p in (parent, *parent.parents) if os.path.lexists(p)), Path("."))
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        probe = existing / f".{Path(out).name if out is not None else 'run'}.probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise written(existing, exc, "nothing was fitted or written", kind="folder") from exc


def model_folder(name: str, k: int, n_folds: int) -> str:
    """The folder under ``models/`` of model ``name``'s fit of fold ``k`` (0-based) out of ``n_folds``."""
    return name if n_folds == 1 else f"{name}-fold{k + 1}"


@contextmanager
def run_folder(destination: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``destination``; rename it to ``destination`` when the block succeeds.

    On any exception (``KeyboardInterrupt`` included) the temporary folder is removed and the exception goes on; an
    ``OSError`` (no permission, a full disk) goes on as a :class:`signalbench.RunFolderError` naming the path.

    Raises
    ------
    FileExistsError
        When ``destination`` exists already (a run folder is never overwritten).
    signalbench.RunFolderError
        When the folder cannot be written.
    """
    destination = Path(destination)
    if destination.exists():
        raise FileExistsError(f"run folder {destination} exists already; choose another --out")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = destination.parent / f".{destination.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
    except OSError as exc:
        raise written(destination, exc, "nothing was written", kind="folder") from exc
    try:
        yield tmp
        os.rename(tmp, destination)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
            where = getattr(exc, "filename", None) or destination
            raise written(where, exc, f"nothing was written at {destination} (the partial folder was removed)") from exc
        raise


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: NumPy scalars and arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented, key-sorted, standard JSON (NaN and infinities as null)."""
    text = json.dumps(to_jsonable(value), indent=1, sort_keys=True, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment(device: str) -> dict[str, Any]:
    """Versions, git commit, device and thread counts of this process (for ``environment.json``)."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    threads: dict[str, Any] = {"cpu_count": os.cpu_count()}
    try:
        import torch

        threads["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        import numba

        threads["numba"] = numba.get_num_threads()
    except ImportError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "git_commit": _git_commit(),
        "device": device,
        "threads": threads,
    }
