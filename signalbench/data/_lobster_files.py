"""Where the LOBSTER files of each trading day are: zip archives, folders, (message, orderbook) pairs, lists of them.

:func:`resolve` turns the ``path`` argument of :func:`signalbench.data.load_lobster` into one :class:`Day` per trading
day: its two files (on disk or inside a zip archive, read only when loaded), its date, ticker and level count from
the file names. Damaged archives are reported as :class:`~signalbench.data.lobster.LobsterFormatError` naming the
archive and the member.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np

from signalbench._validation import expected
from signalbench.data._archives import DAMAGED, is_damage, zip_damage
from signalbench.data._errors import LobsterFormatError

__all__ = ["Day", "LobsterPath", "PathLike", "Source", "resolve"]

PathLike: TypeAlias = str | os.PathLike[str]
LobsterPath: TypeAlias = PathLike | tuple[PathLike, PathLike] | Sequence[PathLike | tuple[PathLike, PathLike]]

_NAME_RE = re.compile(
    r"^(?P<ticker>.+?)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_(?P<kind>message|orderbook)_"
    r"(?P<level>\d+)\.csv$",
    re.IGNORECASE,
)
_DATE_RE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


@dataclass(frozen=True)
class Source:
    """One CSV file, on disk or inside a zip archive."""

    name: str  # as shown in error messages
    read: Callable[[], bytes]


@dataclass(frozen=True)
class Day:
    """The two files of one trading day, with what their names say."""

    message: Source
    orderbook: Source
    date: np.datetime64  # datetime64[D]
    ticker: str | None
    level: int | None  # from the file name, when it follows LOBSTER's pattern


def _file_source(path: Path) -> Source:
    return Source(str(path), path.read_bytes)


def _zip_source(archive: Path, member: str) -> Source:
    name = f"{archive}:{member}"

    def read() -> bytes:
        try:
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        except DAMAGED as exc:
            if not is_damage(exc):
                raise
            problem = f"cannot be read: the archive is damaged ({type(exc).__name__}: {exc})"
            raise LobsterFormatError(f"{name}: {problem}", path=name) from None

    return Source(name, read)


def _parse_date(text: str, where: str) -> np.datetime64:
    try:
        return np.datetime64(text, "D")
    except ValueError:
        raise LobsterFormatError(f"{where}: {text!r} in the file name is not a valid date", path=where) from None


def _pair_up(entries: list[tuple[str, Source]], container: str, *, required: bool = True) -> list[Day]:
    """Group LOBSTER-named CSVs (base name, source) into message/order-book pairs of one day each."""
    groups: dict[tuple[str, ...], dict[str, Source]] = {}
    for base, source in entries:
        m = _NAME_RE.match(base)
        if m is None:
            continue
        key = (m["ticker"], m["date"], m["start"], m["end"], m["level"])
        kind = m["kind"].lower()
        slot = groups.setdefault(key, {})
        if kind in slot:
            raise LobsterFormatError(
                f"{container}: two {kind} files for {key[0]} on {key[1]}: {slot[kind].name} and {source.name}",
                path=container,
            )
        slot[kind] = source
    if not groups and not required:
        return []
    if not groups:
        found = ", ".join(sorted(base for base, _ in entries)[:10]) or "nothing"
        raise LobsterFormatError(
            f"{container}: no LOBSTER message/orderbook pair found (expected files named "
            f"TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv and ..._orderbook_LEVEL.csv; found: {found})",
            path=container,
        )
    days = []
    for (ticker, date, _start, _end, level), slot in sorted(groups.items()):
        for kind, other in (("message", "orderbook"), ("orderbook", "message")):
            if kind in slot and other not in slot:
                raise LobsterFormatError(
                    f"{container}: {slot[kind].name} has no matching {other} file", path=slot[kind].name
                )
        days.append(
            Day(
                slot["message"],
                slot["orderbook"],
                _parse_date(date, slot["message"].name),
                ticker,
                int(level),
            )
        )
    return days


def _days_in_zip(archive: Path, *, required: bool = True) -> list[Day]:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [info.filename for info in zf.infolist() if not info.is_dir()]
    except DAMAGED as exc:
        if not is_damage(exc):
            raise
        problem, member = zip_damage(archive, exc)
        name = str(archive) if member is None else f"{archive}:{member}"
        raise LobsterFormatError(f"{name}: {problem}", path=name) from None
    return _pair_up([(Path(m).name, _zip_source(archive, m)) for m in members], str(archive), required=required)


def _days_in_folder(folder: Path) -> list[Day]:
    entries: list[tuple[str, Source]] = []
    days: list[Day] = []
    for child in sorted(folder.iterdir()):
        if child.is_file() and child.suffix.lower() == ".zip":
            days.extend(_days_in_zip(child, required=False))  # other zips in the folder are ignored
        elif child.is_file() and _NAME_RE.match(child.name):
            entries.append((child.name, _file_source(child)))
    if entries:
        days.extend(_pair_up(entries, str(folder)))
    if not days:
        found = ", ".join(sorted(c.name for c in folder.iterdir())[:10]) or "nothing"
        raise LobsterFormatError(
            f"{folder}: no LOBSTER files found (expected LOBSTER zip archives or CSV pairs named "
            f"TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv / ..._orderbook_LEVEL.csv; found: {found})",
            path=str(folder),
        )
    return days


def _day_from_pair(message: PathLike, orderbook: PathLike) -> Day:
    msg, book = Path(message), Path(orderbook)
    for p in (msg, book):
        if not p.is_file():
            raise FileNotFoundError(f"LOBSTER file not found: {p}")
    m_msg, m_book = _NAME_RE.match(msg.name), _NAME_RE.match(book.name)
    if m_msg is not None and m_msg["kind"].lower() != "message":
        raise LobsterFormatError(
            f"{msg}: the first file of the pair must be the message file, this is a {m_msg['kind']} file "
            "(pass (message, orderbook))",
            path=str(msg),
        )
    if m_book is not None and m_book["kind"].lower() != "orderbook":
        raise LobsterFormatError(
            f"{book}: the second file of the pair must be the order-book file, "
            f"this is a {m_book['kind']} file "
            "(pass (message, orderbook))",
            path=str(book),
        )
    if m_msg is not None and m_book is not None:
        a = (m_msg["ticker"], m_msg["date"], m_msg["level"])
        b = (m_book["ticker"], m_book["date"], m_book["level"])
        if a != b:
            raise LobsterFormatError(
                f"{msg} and {book} do not belong together (ticker, date, levels {a} vs {b})", path=str(msg)
            )
        return Day(
            _file_source(msg),
            _file_source(book),
            _parse_date(m_msg["date"], str(msg)),
            m_msg["ticker"],
            int(m_msg["level"]),
        )
    found = _DATE_RE.search(msg.name) or _DATE_RE.search(book.name)
    if found is None:
        raise LobsterFormatError(
            f"{msg}: cannot tell the trading date from the file name (LOBSTER names files "
            "TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv; keep a YYYY-MM-DD date in the name)",
            path=str(msg),
        )
    return Day(_file_source(msg), _file_source(book), _parse_date(found[1], str(msg)), None, None)


def _starts_like_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _days_in_path(path: PathLike) -> list[Day]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"LOBSTER path not found: {p}")
    if p.is_dir():
        return _days_in_folder(p)
    if p.suffix.lower() == ".zip" or zipfile.is_zipfile(p) or _starts_like_zip(p):
        return _days_in_zip(p)
    m = _NAME_RE.match(p.name)
    if m is None:
        raise LobsterFormatError(
            f"{p}: not a LOBSTER file (expected a LOBSTER zip archive, a folder, a (message, orderbook) "
            "pair, or a CSV named TICKER_YYYY-MM-DD_start_end_message_LEVEL.csv)",
            path=str(p),
        )
    kind = m["kind"].lower()
    other = "orderbook" if kind == "message" else "message"
    partner = p.with_name(p.name[: m.start("kind")] + other + p.name[m.end("kind") :])
    if not partner.is_file():
        raise LobsterFormatError(f"{p}: its {other} file {partner.name} is not next to it", path=str(p))
    return [_day_from_pair(p, partner) if kind == "message" else _day_from_pair(partner, p)]


_PATH_KINDS = "a path, a (message, orderbook) pair of paths, or a list of them"


def resolve(path: LobsterPath) -> list[Day]:
    if isinstance(path, tuple):
        if len(path) != 2:
            raise ValueError(
                expected("path", "a (message, orderbook) pair of two paths", f"{len(path)} items", raw=True)
            )
        for item in path:
            if not isinstance(item, str | os.PathLike):
                raise TypeError(expected("path", "a (message, orderbook) pair of two paths", item))
        return [_day_from_pair(*path)]
    if isinstance(path, str | os.PathLike):
        return _days_in_path(path)
    if isinstance(path, Sequence):
        if len(path) == 0:
            raise ValueError(expected("path", _PATH_KINDS, "an empty list", raw=True))
        return [day for item in path for day in resolve(item)]
    raise TypeError(expected("path", _PATH_KINDS, path))
