"""Compressed and archived input files: which errors mean "damaged", and which member a damaged zip breaks in.

The loaders read zip archives (:func:`signalbench.data.load_lobster`) and compressed CSVs (:func:`load_bars`
through pandas). A damaged file fails deep inside ``zipfile``, ``zlib``, ``gzip``, ``bz2`` or ``lzma`` with errors
such as ``BadZipFile``, ``BadGzipFile``, ``EOFError`` ("Compressed file ended before the end-of-stream marker was
reached") or ``zlib.error``; the loaders catch :data:`DAMAGED` and report a
:class:`~signalbench.data.DataFormatError` naming the file and, for a zip, the member.
"""

from __future__ import annotations

import lzma
import mmap
import zipfile
import zlib
from pathlib import Path

__all__ = ["DAMAGED", "is_damage", "zip_damage"]

#: Exceptions raised by the standard library's archive and decompression modules on damaged data.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError, OSError, NotImplementedError, RuntimeError)

_LOCAL_HEADER = b"PK\x03\x04"


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` (one of :data:`DAMAGED`) says the data is damaged, not that the system failed.

    Operating-system errors (permission denied, a missing file, a full disk) carry an ``errno`` and are not
    format problems; decompressors raise ``OSError`` without one ("Invalid data stream", ``BadGzipFile``).
    """
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        return exc.errno is None
    return isinstance(exc, DAMAGED)


def _last_member_header(path: Path) -> str | None:
    """Name in the last local file header of a zip, found by scanning (works when the central directory is gone)."""
    if path.stat().st_size == 0:
        return None
    last = None
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = mm.find(_LOCAL_HEADER)
        while 0 <= pos and pos + 30 <= len(mm):
            size = int.from_bytes(mm[pos + 26 : pos + 28], "little")
            name = mm[pos + 30 : pos + 30 + size]
            if 0 < size <= 1024 and len(name) == size:
                try:
                    last = name.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            pos = mm.find(_LOCAL_HEADER, pos + 4)
    return last


def zip_damage(path: Path, exc: BaseException) -> tuple[str, str | None]:
    """Why a zip archive cannot be opened, and the member the damage is in when that can be told.

    A truncated archive has lost its central directory (the list of members at the end), so ``zipfile`` can only say
    "File is not a zip file"; the local headers that remain still name the member the data stops in.

    Returns
    -------
    tuple
        ``(explanation, member or None)``.
    """
    member = _last_member_header(path)
    if member is None:
        return f"not a readable zip archive ({exc})", None
    return (
        f"a damaged or truncated zip archive ({exc}): its list of members is missing and the data stops in or after "
        f"member {member!r}",
        member,
    )
