"""The error types of the data loaders.

Every loader in :mod:`signalbench.data` reports bad input with a :class:`DataFormatError` (a ``ValueError``)
whose message names the file, the column (where there is one) and the first offending row, and says what was
expected. The same facts are available as attributes, so callers and tests need not parse the message.
"""

from __future__ import annotations

__all__ = ["DataFormatError", "LobsterFormatError"]


class DataFormatError(ValueError):
    """A data file that cannot be loaded as asked: malformed, inconsistent or not the expected format.

    Parameters
    ----------
    message : str
        The full, human-readable explanation (it already names the file, column and row).
    path : str, optional
        The file the problem was found in, as shown in the message (for a member of a zip archive,
        ``"archive.zip:member.csv"``).
    row : int, optional
        The first offending row, 1-based as a text editor counts lines for headerless files (LOBSTER), or as
        documented by the loader (see :func:`signalbench.data.bars.load_bars`).
    column : str, optional
        The offending column, where the problem belongs to one.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.row = row
        self.column = column


class LobsterFormatError(DataFormatError):
    """A LOBSTER file that cannot be loaded; names file, first offending row, problem."""
