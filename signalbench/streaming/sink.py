"""The Parquet sink: predictions in batches, crash-safe, idempotent by event id (``docs/architecture.md``).

Layout of a sink folder::

    manifest.json                              what is finished: the run's description and the list of files
    part_<first id>_<last id>.parquet          one flushed batch (ids as in :mod:`signalbench.streaming.codec`)
    part_<first id>_<last id>.state.npz        the consumer's checkpoint after that batch's last event

A flush writes the Parquet file under a temporary name, fsyncs and renames it; then the checkpoint the same way; then
rewrites ``manifest.json`` atomically with the new entry (file, first/last id and position, rows, checkpoint and the
consumer's position). The manifest rewrite is the commit: a crash before it leaves files that no manifest lists, and
the next :class:`ParquetSink` on the folder deletes them (and any ``.*.tmp`` leftover) before anything else; a crash
after it leaves a complete batch. Readers use only the files listed in the manifest.

Idempotence: rows whose event id is at or before the last flushed one, or already buffered, are not written again
(the consumer processes entries in id order, so "at or before" is "already in the sink").

Columns (the contract with ``signalbench stream evaluate``): :mod:`signalbench.streaming.rows`, their one definition.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from signalbench import _atomic
from signalbench.streaming.codec import id_key
from signalbench.streaming.rows import arrow_schema

__all__ = ["MANIFEST", "ParquetSink", "SinkMismatch", "read_sink"]

log = logging.getLogger("signalbench.streaming")

MANIFEST = "manifest.json"
_PART = re.compile(r"^part_\d+-\d+_\d+-\d+\.(parquet|state\.npz)$")
_TMP = re.compile(r"^\.(part_|manifest\.json).*\.tmp$")
#: Manifest keys that must agree when a sink folder is reused.
_IDENTITY = ("model", "mode", "backend", "stream", "group", "classes", "features", "levels")


class SinkMismatch(ValueError):
    """A sink folder that holds the predictions of another model, mode, stream or group."""


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: expected the sink's manifest (JSON), got an unreadable file ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValueError(f"{path}: expected a JSON object with a 'files' list, got {type(manifest).__name__}")
    return manifest


def read_sink(folder: str | Path) -> pa.Table:
    """Every row of the files ``manifest.json`` lists, in event order (one Arrow table)."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(f"{folder}: expected a sink folder with {MANIFEST}, found none")
    tables = [pq.read_table(folder / entry["file"]) for entry in manifest["files"]]
    if not tables:
        return arrow_schema(manifest["classes"]).empty_table()
    return pa.concat_tables(tables)


class ParquetSink:
    """Buffer prediction rows and flush them as Parquet batches with a checkpoint (see the module docstring).

    Parameters
    ----------
    folder : path
        The sink folder (created if missing). An existing one is recovered: unlisted files are removed.
    identity : mapping
        What the sink holds: ``model`` (folder), ``mode``, ``backend``, ``stream``, ``group``, ``classes``,
        ``features``, ``levels`` (book levels of the data) and anything else to record (``run_dir``, ``source``,
        ``out``, ...). A folder written with a different model, mode, backend, stream, group, classes, features or
        levels is a :class:`SinkMismatch` (its checkpoint would not fit).
    batch_size : int, default 1000
        Flush when this many rows are buffered.
    flush_interval : float, default 1.0
        Or when the oldest buffered row has waited this many seconds.
    """

    def __init__(self, folder, identity: Mapping[str, Any], *, batch_size: int = 1000, flush_interval: float = 1.0):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.schema = arrow_schema(identity["classes"])
        self.manifest = self._open(dict(identity))
        self._rows: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self._since: float | None = None
        self.batches = 0

    def _open(self, identity: dict[str, Any]) -> dict[str, Any]:
        manifest = _read_manifest(self.folder)
        if manifest is None:
            manifest = {"format": 1, **identity, "files": [], "last_id": None, "position": None}
        else:
            for key in _IDENTITY:
                if json.dumps(manifest.get(key)) != json.dumps(identity.get(key)):
                    raise SinkMismatch(
                        f"--sink: expected a new folder or one written with {key}={identity.get(key)!r}, got "
                        f"{self.folder} holding {key}={manifest.get(key)!r}; use another --sink folder"
                    )
        listed = {e["file"] for e in manifest["files"]} | {e["checkpoint"] for e in manifest["files"]}
        for path in self.folder.iterdir():
            if (_PART.match(path.name) and path.name not in listed) or _TMP.match(path.name):
                log.warning("sink %s: removing %s, left by an interrupted flush (not in the manifest)",
                            self.folder, path.name)  # fmt: skip
                path.unlink()
        if not (self.folder / MANIFEST).exists():
            _atomic.write_text(self.folder / MANIFEST, json.dumps(manifest, indent=1))
        return manifest

    @property
    def last_id(self) -> str | None:
        """The id of the last row in the sink (flushed), or None."""
        return self.manifest["last_id"]

    @property
    def position(self) -> dict[str, Any] | None:
        """The consumer's position saved with the last batch (``id``, ``day``, ``pos``, ``time``), or None."""
        return self.manifest["position"]

    def checkpoint(self) -> dict[str, np.ndarray] | None:
        """The state saved with the last batch (the arrays given to :meth:`flush`), or None for a new sink."""
        if not self.manifest["files"]:
            return None
        with np.load(self.folder / self.manifest["files"][-1]["checkpoint"]) as npz:
            return {k: npz[k] for k in npz.files}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: Mapping[str, Any]) -> bool:
        """Buffer one row; False (and nothing buffered) when its ``event_id`` is already in the sink or buffer."""
        eid = row["event_id"]
        if eid in self._ids or (self.last_id is not None and id_key(eid) <= id_key(self.last_id)):
            return False
        if not self._rows:
            self._since = time.monotonic()
        self._rows.append(dict(row))
        self._ids.add(eid)
        return True

    def due(self) -> bool:
        """True when the buffer is full or its oldest row has waited ``flush_interval`` seconds."""
        if not self._rows:
            return False
        return len(self._rows) >= self.batch_size or time.monotonic() - self._since >= self.flush_interval

    def flush(self, state: Mapping[str, np.ndarray], position: Mapping[str, Any]) -> list[str]:
        """Write the buffered rows and ``state`` (the checkpoint after them), commit; return the ids written.

        Parameters
        ----------
        state : mapping of str to numpy.ndarray
            The consumer's state after the last buffered row (restored with :meth:`checkpoint`).
        position : mapping
            The consumer's position (JSON-able: ``id``, ``day``, ``pos``, ``time``), restored with :attr:`position`.
        """
        if not self._rows:
            return []
        rows, self._rows, self._ids = self._rows, [], set()
        first, last = rows[0]["event_id"], rows[-1]["event_id"]
        stem = f"part_{first}_{last}"
        table = pa.Table.from_pylist(rows, schema=self.schema)
        with _atomic.atomic_path(self.folder / f"{stem}.parquet") as tmp:
            pq.write_table(table, tmp)
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in state.items()})
        _atomic.write_bytes(self.folder / f"{stem}.state.npz", buf.getvalue())
        entry = {
            "file": f"{stem}.parquet", "checkpoint": f"{stem}.state.npz", "rows": len(rows),
            "first_id": first, "last_id": last, "first_pos": rows[0]["pos"], "last_pos": rows[-1]["pos"],
        }  # fmt: skip
        manifest = {**self.manifest, "files": [*self.manifest["files"], entry], "last_id": last,
                    "position": dict(position)}  # fmt: skip
        _atomic.write_text(self.folder / MANIFEST, json.dumps(manifest, indent=1))
        self.manifest = manifest
        self.batches += 1
        return [r["event_id"] for r in rows]
