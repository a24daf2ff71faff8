"""Read a prediction sink for analysis: the manifest and the Parquet files it lists, and nothing else.

The sink format is the one the consumer writes (``docs/architecture.md``, "Streaming"): ``SINK_DIR/manifest.json``
lists the finished Parquet files; a file that is not listed (a temporary name, a file written after the manifest was
last rewritten, anything left by a crash) is never read. Every problem is a clear error naming the sink, the manifest
entry or the file, and the column. (:func:`signalbench.streaming.sink.read_sink` is the sink's own reader of the same
files, as one Arrow table, for the consumer and its tests; :func:`load_sink` adds the checks evaluation needs.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from signalbench._validation import expected
from signalbench.streaming.rows import REQUIRED_COLUMNS

__all__ = ["REQUIRED_COLUMNS", "SinkData", "load_sink"]

_ENTRY_KEYS = ("name", "file", "path")


@dataclass
class SinkData:
    """A sink as read: its folder, its manifest, the listed files and their rows in file order.

    Attributes
    ----------
    path : pathlib.Path
        The sink folder.
    manifest : dict
        ``manifest.json`` as read.
    files : list of pathlib.Path
        The listed Parquet files, in manifest order.
    frame : pandas.DataFrame
        Every row of every listed file, in manifest order (duplicates kept: the caller reports them).
    classes : tuple of int
        The classes of the ``p_<class>`` columns, in ascending order.
    """

    path: Path
    manifest: dict[str, Any]
    files: list[Path]
    frame: pd.DataFrame
    classes: tuple[int, ...]


def _manifest(sink: Path) -> dict[str, Any]:
    if not sink.is_dir():
        raise FileNotFoundError(expected("sink_dir", "an existing sink folder", str(sink), raw=True))
    path = sink / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(
            expected(
                "sink_dir",
                "a sink folder with manifest.json",
                "no manifest.json",
                at=str(sink),
                raw=True,
                hint="the consumer writes it with its first batch; nothing has been flushed yet",
            )
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(expected("manifest.json", "valid JSON", str(exc), at=str(path), raw=True)) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValueError(
            expected("manifest.json", "an object with a 'files' list", type(manifest).__name__, at=str(path), raw=True)
        )
    return manifest


def _entry_path(sink: Path, entry: Any, k: int) -> Path:
    name = entry
    if isinstance(entry, dict):
        name = next((entry[key] for key in _ENTRY_KEYS if key in entry), None)
    if not isinstance(name, str) or not name:
        raise ValueError(expected(f"manifest.json files[{k}]", "a file name", repr(entry), at=str(sink), raw=True))
    path = (sink / name).resolve()
    if path.parent != sink.resolve():
        raise ValueError(
            expected(f"manifest.json files[{k}]", "a file inside the sink folder", repr(name), at=str(sink), raw=True)
        )
    if not path.is_file():
        raise FileNotFoundError(
            expected(
                f"manifest.json files[{k}]",
                "an existing Parquet file",
                "no such file",
                at=str(path),
                raw=True,
                hint="the manifest lists a file that is gone; the sink folder was changed by hand",
            )
        )
    return path


def _read_file(path: Path, k: int) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(
            expected(
                f"manifest.json files[{k}]",
                "a readable Parquet file",
                f"{type(exc).__name__}: {exc}",
                at=str(path),
                raw=True,
            )
        ) from None


def _classes(frame: pd.DataFrame, path: Path) -> tuple[int, ...]:
    found = []
    for col in frame.columns:
        if isinstance(col, str) and col.startswith("p_"):
            try:
                found.append(int(col[2:]))
            except ValueError:
                raise ValueError(
                    expected("sink column", "p_<integer class>", repr(col), at=str(path), raw=True)
                ) from None
    if len(found) < 2:
        raise ValueError(expected("sink columns", "a p_<class> column per class (at least 2)", found, at=str(path)))
    return tuple(sorted(found))


def _check_columns(frame: pd.DataFrame, path: Path) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            expected(
                "sink columns", f"columns {list(REQUIRED_COLUMNS)}", f"none named {missing}", at=str(path), raw=True
            )
        )
    if not pd.api.types.is_integer_dtype(frame["pos"]):
        raise ValueError(
            expected("sink column 'pos'", "int64 row positions", str(frame["pos"].dtype), at=str(path), raw=True)
        )


def load_sink(sink_dir: str | Path) -> SinkData:
    """Read the manifest of ``sink_dir`` and the Parquet files it lists (only those).

    Parameters
    ----------
    sink_dir : path
        A sink folder written by the inference consumer.

    Returns
    -------
    SinkData

    Raises
    ------
    FileNotFoundError
        No such folder, no ``manifest.json``, or a listed file is missing.
    ValueError
        A manifest that is not JSON or has no ``files`` list, a listed file that is not readable Parquet, a missing
        column, or files whose ``p_<class>`` columns differ; the message names the file.
    """
    sink = Path(sink_dir)
    manifest = _manifest(sink)
    files, frames, classes = [], [], None
    for k, entry in enumerate(manifest["files"]):
        path = _entry_path(sink, entry, k)
        frame = _read_file(path, k)
        _check_columns(frame, path)
        mine = _classes(frame, path)
        if classes is not None and mine != classes:
            raise ValueError(
                expected("sink columns", f"the classes {classes} of the earlier files", mine, at=str(path))
            )
        classes = mine
        files.append(path)
        frames.append(frame)
    if not frames:
        raise ValueError(
            expected(
                "manifest.json",
                "at least one listed file",
                "none",
                at=str(sink),
                raw=True,
                hint="nothing has been flushed yet",
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return SinkData(sink, manifest, files, frame, classes)
