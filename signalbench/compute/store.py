"""The task store: one folder, one sub-folder per task key, each written atomically.

Layout of ``<root>/<key>/``:

- ``manifest.json``: ``{"format": 1, "shape": "dict" | "value", "entries": {name: {"as": how, ...}}}``;
- ``result.json``: the JSON-able entries, together;
- ``<i>.parquet``: a pandas DataFrame or Series (a Series as a one-column frame, its name in the manifest);
- ``<i>.npy``: a NumPy array (numeric, bool, string; no objects);
- ``<i>.model/``: a signalbench signal model in its own format (``SignalModel.save``, ``signalbench.signals.load``);
- ``<i>.pkl``: anything else, pickled (the manifest says ``"as": "pickle"`` and the type).

A result that is a ``dict`` with string keys is stored entry by entry; any other value as the one entry ``value``.
The sub-folder is built under a hidden temporary name and renamed into place (:func:`signalbench._atomic.atomic_dir`),
so a key's folder is complete or absent: a killed writer leaves at most a hidden ``.<key>.*.tmp`` folder, which no
reader takes for a result (:meth:`TaskStore.clean`, called by ``run_graph``, removes it after an hour). Results are
pure: saving a key that exists does nothing, and two writers of one key leave one complete folder.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from signalbench._atomic import atomic_dir
from signalbench._validation import expected
from signalbench.compute.tasks import KEY_PATTERN, check_key

__all__ = ["TaskStore", "TaskStoreError"]

FORMAT = 1
MANIFEST = "manifest.json"
JSON_FILE = "result.json"
STALE_AFTER = 3600.0  # seconds after which a writer's temporary folder is a leftover of a killed process
_TEMPORARY = re.compile(rf"\.{KEY_PATTERN.pattern}\..+\.tmp")


class TaskStoreError(ValueError):
    """A key missing from the store, or a stored result that cannot be read; the message names the folder or file."""


class TaskStore:
    """A folder of task results, one sub-folder per key (see the module docstring for the layout).

    Parameters
    ----------
    root : str or os.PathLike
        The folder (created when missing). It must be on a file system every worker sees.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(expected("root", "a folder path", root))
        self.root = Path(root).resolve()
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(expected("root", "a folder", f"a file at {self.root}", raw=True, hint="choose a folder"))
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"TaskStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The folder of ``key`` (whether or not it exists)."""
        return self.root / check_key(key, "key")

    def has(self, key: str) -> bool:
        """Whether the result of ``key`` is stored (complete: the folder appears in one rename)."""
        return (self.path(key) / MANIFEST).is_file()

    def keys(self) -> set[str]:
        """Every stored key."""
        return {p.name for p in self.root.iterdir() if KEY_PATTERN.fullmatch(p.name) and (p / MANIFEST).is_file()}

    def clean(self, older_than: float = STALE_AFTER) -> list[Path]:
        """Remove the temporary folders that killed writers left, once older than ``older_than`` seconds.

        A writer's temporary folder (``.<key>.<random>.tmp``) lives for the seconds a save takes; one that is old was
        left by a process killed mid-save (SIGKILL, a dead machine) and is never read. Returns what was removed.
        """
        limit = time.time() - older_than
        removed = []
        for path in self.root.iterdir():
            if _TEMPORARY.fullmatch(path.name) and path.is_dir() and path.stat().st_mtime < limit:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        return removed

    def save(self, key: str, value: Any) -> None:
        """Store ``value`` as the result of ``key``; nothing happens when ``key`` is stored already."""
        target = self.path(key)
        if self.has(key):
            return
        try:
            with atomic_dir(target) as tmp:
                manifest = _write(tmp, value)
                (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        except (FileExistsError, OSError):
            if self.has(key):  # another writer of the same (pure) result won the rename
                return
            raise

    def load(self, key: str) -> Any:
        """The stored result of ``key``, equal to what was saved."""
        folder = self.path(key)
        if not self.has(key):
            raise TaskStoreError(
                expected("key", "a key stored in the task store", key, at=str(folder), hint="run its task first")
            )
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return _read(folder, manifest)
        except TaskStoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged entry, whatever the reader raised
            raise TaskStoreError(
                expected(
                    "task store entry",
                    "a complete stored result",
                    f"{type(exc).__name__}: {exc}",
                    at=str(folder),
                    raw=True,
                    hint="delete the folder to recompute it",
                )
            ) from exc


# ---------------------------------------------------------------------------------------------------------------------
# Writing and reading entries
# ---------------------------------------------------------------------------------------------------------------------


def _write(folder: Path, value: Any) -> dict:
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        shape, entries = "dict", value
    else:
        shape, entries = "value", {"value": value}
    manifest: dict = {"format": FORMAT, "shape": shape, "entries": {}}
    plain = {}
    for i, (name, item) in enumerate(entries.items()):
        if _is_json(item):
            plain[name] = item
            manifest["entries"][name] = {"as": "json"}
        else:
            manifest["entries"][name] = _write_one(folder, str(i), item)
    if plain:
        (folder / JSON_FILE).write_text(json.dumps(plain), encoding="utf-8")
    return manifest


def _write_one(folder: Path, stem: str, item: Any) -> dict:
    """Write one non-JSON entry as ``<stem>.<ext>``; its manifest record."""
    for writer in (_write_frame, _write_array, _write_model):
        record = writer(folder, stem, item)
        if record is not None:
            return record
    (folder / f"{stem}.pkl").write_bytes(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
    return {"as": "pickle", "file": f"{stem}.pkl", "type": f"{type(item).__module__}.{type(item).__qualname__}"}


def _write_frame(folder: Path, stem: str, item: Any) -> dict | None:
    import pandas as pd

    if not isinstance(item, (pd.DataFrame, pd.Series)):
        return None
    record: dict = {"as": "series" if isinstance(item, pd.Series) else "frame", "file": f"{stem}.parquet"}
    frame = item
    if isinstance(item, pd.Series):
        if not _is_json(item.name):
            return None
        record["name"] = item.name
        frame = item.to_frame(name="value")
    if not all(isinstance(c, str) for c in frame.columns) or frame.columns.has_duplicates:
        return None
    if isinstance(frame.index, (pd.DatetimeIndex, pd.TimedeltaIndex)) and frame.index.freq is not None:
        record["freq"] = frame.index.freqstr  # Parquet drops it
    try:
        frame.to_parquet(folder / record["file"])
    except OSError:
        raise
    except (TypeError, ValueError, NotImplementedError):  # what pyarrow cannot hold (mixed objects, ...) is pickled
        (folder / record["file"]).unlink(missing_ok=True)
        return None
    return record


def _write_array(folder: Path, stem: str, item: Any) -> dict | None:
    import numpy as np

    if type(item) is not np.ndarray or item.dtype.hasobject:
        return None
    np.save(folder / f"{stem}.npy", item, allow_pickle=False)
    return {"as": "array", "file": f"{stem}.npy"}


def _write_model(folder: Path, stem: str, item: Any) -> dict | None:
    persistence = sys.modules.get("signalbench.signals.persistence")  # a model's module is loaded when one exists
    if persistence is None or not isinstance(item, persistence.Persistent):
        return None
    item.save(folder / f"{stem}.model")
    return {"as": "model", "file": f"{stem}.model"}


def _read(folder: Path, manifest: dict) -> Any:
    if manifest.get("format") != FORMAT:
        raise TaskStoreError(
            expected(
                f"{folder / MANIFEST} key 'format'",
                f"{FORMAT}",
                manifest.get("format"),
                hint="a store written by another signalbench version: use another --cache folder",
            )
        )
    plain = None
    out = {}
    for name, record in manifest["entries"].items():
        if record["as"] == "json":
            if plain is None:
                plain = json.loads((folder / JSON_FILE).read_text(encoding="utf-8"))
            out[name] = plain[name]
        else:
            out[name] = _read_one(folder, record)
    return out if manifest["shape"] == "dict" else out["value"]


def _read_one(folder: Path, record: dict) -> Any:
    how, path = record["as"], folder / record["file"]
    if how in ("frame", "series"):
        import pandas as pd

        frame = pd.read_parquet(path)
        if "freq" in record:
            frame.index.freq = record["freq"]
        if how == "series":
            return frame["value"].rename(record["name"])
        return frame
    if how == "array":
        import numpy as np

        return np.load(path, allow_pickle=False)
    if how == "model":
        from signalbench.signals.registry import load

        return load(path)
    if how == "pickle":
        return pickle.loads(path.read_bytes())
    raise TaskStoreError(expected(f"{folder / MANIFEST} entry 'as'", "a known kind", how))


def _is_json(value: Any) -> bool:
    """Whether ``value`` survives a JSON round trip unchanged (no tuples, string keys only, plain types)."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return True
    if type(value) is list:
        return all(_is_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    return False
