"""The stored datasets that ``GET /market-data/{symbol}`` serves: which (symbol, day) pieces exist, and where.

A dataset is a data source that holds files (LOBSTER or bars; synthetic data are generated, not stored, so they are
not served). The sources are, in this order (the first source of a (symbol, day) wins):

1. the files directly inside each ``signalbench serve --data DIR`` folder, each its own source: ``*.zip`` and
   ``*_message_*.csv`` as LOBSTER, other ``*.csv`` / ``*.parquet`` files as bars (symbol: the name up to its first
   ``_``, or a ``symbol`` column);
2. the ``[data]`` section of every run in the database (one per distinct data table), its relative paths read from
   the run's ``base_dir`` (``config.json``), else from the runs folder's parent.

Pieces are found by :func:`signalbench.data.pieces.discover` (file names only, no rows read). A piece whose files
do not lie, symbolic links followed, under an allowed root (the runs folder's parent or a ``--data`` folder) is
refused, as is a source that cannot be discovered (a missing file, a name that gives no symbol); refused sources are
listed with the reason by ``GET /market-data``.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from signalbench.service import db
from signalbench.service.paths import inside

LOBSTER_GLOBS = ("*.zip", "*_message_*.csv")
BARS_SUFFIXES = (".csv", ".parquet")


@dataclass
class Catalog:
    """Every piece found, by symbol then day, and the sources refused (``(where, why)``)."""

    pieces: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _dir_sources(folder: Path) -> list[tuple[str, dict[str, Any], Path]]:
    lobster = {p for pattern in LOBSTER_GLOBS for p in folder.glob(pattern)}
    found = [(str(p), {"kind": "lobster", "path": str(p)}, folder) for p in sorted(lobster)]
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in BARS_SUFFIXES and p not in lobster and "_orderbook_" not in p.name:
            found.append((str(p), {"kind": "bars", "path": str(p)}, folder))
    return found


def _run_sources(engine, runs_dir: Path) -> list[tuple[str, dict[str, Any], Path]]:
    """One run per distinct data table of LOBSTER or bars data (the first run that used it)."""
    first = (
        select(func.min(db.runs.c.pk))
        .where(db.runs.c.data_kind.in_(("lobster", "bars")))
        .group_by(db.runs.c.data_version)
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(db.runs.c.id, db.runs.c.config).where(db.runs.c.pk.in_(first)).order_by(db.runs.c.pk)
        ).all()
    out = []
    for row in rows:
        config = row.config if isinstance(row.config, dict) else {}
        base = Path(config.get("base_dir") or runs_dir.parent)
        out.append((f"run {row.id}", config.get("data") or {}, base))
    return out


def _files(source: dict[str, Any]) -> list[str]:
    """The files a piece reads: its path, and a LOBSTER day's zip file or its message and order-book files."""
    files = [str(source.get("path", ""))]
    message = str(source.get("message", ""))
    if ".zip:" in message:
        files.append(message.split(".zip:", 1)[0] + ".zip")
    elif message:
        files += [message, re.sub("_message_", "_orderbook_", message, flags=re.IGNORECASE)]
    return files


def _named_outside(data: dict[str, Any], base: Path, roots: list[Path]) -> bool:
    """Whether a path the source names (its globs expanded) lies outside the roots: refused before it is read."""
    paths = data.get("path")
    for item in [paths] if isinstance(paths, str) else list(paths or []):
        full = str(base / str(item))
        if any(not inside(m, roots) for m in (glob.glob(full) if glob.has_magic(full) else [full])):
            return True
    return False


def _discover(data: dict[str, Any], base: Path) -> list:
    from pydantic import TypeAdapter

    from signalbench.data.pieces import discover
    from signalbench.experiment.config import Data

    return discover(TypeAdapter(Data).validate_python(data), base)


def catalog(engine, runs_dir: Path, data_dirs: list[Path]) -> Catalog:
    """The pieces of every stored dataset (see the module docstring), each inside the allowed roots."""
    roots = [runs_dir.parent, *data_dirs]
    sources = [s for d in data_dirs if d.is_dir() for s in _dir_sources(d)] + _run_sources(engine, runs_dir)
    out = Catalog()
    for where, data, base in sources:
        if _named_outside(data, base, roots):
            out.refused.append((where, "a file it names lies outside the allowed roots"))
            continue
        try:
            pieces = _discover(data, base)
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not hide the others
            out.refused.append((where, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
            continue
        for piece in pieces:
            if not all(inside(f, roots) for f in _files(piece.source)):
                out.refused.append((where, f"{piece.symbol} {piece.day}: its files lie outside the allowed roots"))
                continue
            out.pieces.setdefault(piece.symbol, {}).setdefault(piece.day, piece)
    return out
