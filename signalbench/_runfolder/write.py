"""Writing a run folder: built under a temporary name and renamed into place, JSON written one way, ``run.json``.

The folder is built under a hidden temporary name next to its destination and renamed into place as the very last
step, so a failed or interrupted run (Ctrl-C included) leaves nothing that looks finished: the temporary folder is
removed on any exception, and a process killed outright leaves only a hidden ``.<name>.tmp-*`` folder.
:func:`check_destination` refuses, before anything is fitted, a destination that exists or cannot be written.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from signalbench._atomic import write_text
from signalbench._runfiles import written
from signalbench._runfolder.layout import VERSION, model_folder

__all__ = [
    "check_destination",
    "default_run_dir",
    "run_folder",
    "to_jsonable",
    "write_audit",
    "write_json",
    "write_run_record",
]


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


def write_run_record(folder: Path, models: Mapping[str, int]) -> None:
    """Write ``run.json``: the layout number and the model and fold of every folder under ``models/``.

    ``models`` maps a model name to its number of fitted folds.
    """
    record = {model_folder(name, k, n): {"model": name, "fold": k + 1} for name, n in models.items() for k in range(n)}
    write_json(Path(folder) / "run.json", {"layout": VERSION, "models": record})


def write_audit(folder: str | Path, content: Mapping[str, Any]) -> Path:
    """Write ``audit.json`` into ``folder`` atomically (a finished run folder is rewritten in place); its path."""
    text = json.dumps(to_jsonable(dict(content)), indent=1, sort_keys=True, allow_nan=False)
    return write_text(Path(folder) / "audit.json", text + "\n")
