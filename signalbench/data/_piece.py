"""The :class:`Piece` (one symbol on one trading day) and what finding pieces of any kind of data shares."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signalbench.data._errors import DataFormatError

__all__ = ["Piece", "expand", "one_per_symbol_day"]


@dataclass(frozen=True)
class Piece:
    """One symbol on one trading day: what :func:`load_piece` loads.

    Attributes
    ----------
    symbol : str
        ``"AMZN"``; synthetic: ``"SYN0"``, ``"SYN1"``, ...
    day : str
        ISO date ``"2012-06-21"``.
    source : Mapping
        JSON-able: everything :func:`load_piece` needs (kind, file paths, levels, crossed, seed, ...).
    """

    symbol: str
    day: str
    source: Mapping[str, Any]

    def __hash__(self) -> int:  # the source is a dict; (symbol, day) is unique among the pieces of one discovery
        return hash((self.symbol, self.day))

    @property
    def id(self) -> str:
        """``"AMZN/2012-06-21"``."""
        return f"{self.symbol}/{self.day}"


def expand(path: str | list[str], base_dir: Path, argument: str = "data.path") -> list[Path]:
    """Each entry of ``path`` (relative to ``base_dir``), globs expanded in sorted order; an empty match fails."""
    entries = path if isinstance(path, list) else [path]
    found: list[Path] = []
    for entry in entries:
        p = Path(entry).expanduser()
        p = p if p.is_absolute() else base_dir / p
        if glob.has_magic(str(p)):
            matches = sorted(Path(m) for m in glob.glob(str(p)))
            if not matches:
                raise DataFormatError(
                    f"{argument}: expected the pattern {entry!r} to match files, got none (looked for {p})",
                    path=str(p),
                )
            found += matches
        else:
            found.append(p)
    return list(dict.fromkeys(found))


def one_per_symbol_day(pieces: list[Piece], name_of) -> list[Piece]:
    seen: dict[tuple[str, str], Piece] = {}
    for piece in pieces:
        key = (piece.symbol, piece.day)
        if key in seen:
            first, second = name_of(seen[key]), name_of(piece)
            raise DataFormatError(
                f"{second}: expected one file per symbol and day, got two for {piece.symbol} on {piece.day} "
                f"({first} and {second}); remove one or narrow the pattern",
                path=second,
            )
        seen[key] = piece
    return list(seen.values())
