"""The run folder's JSON files, read in one place with their shapes checked (``docs/architecture.md``).

The run folder's owner is :mod:`signalbench._runfolder` (every reader and the writer go through it); its JSON files'
shapes are declared here and :func:`read_json` checks them, so a file that is damaged (truncated, edited, replaced by
a folder) ends in one :class:`RunFolderError` naming the file and the key, whatever reads it, instead of a
``KeyError`` or a plotting message deep inside a reader.

A shape is a function ``check(value, key)`` that raises when ``value`` is not what the readers need; ``key`` is where
the value sits in the file (``columns["lstm:sign"].sharpe``). The shapes say what the readers rely on: keys they do not
read are not checked, except in a column or a model of ``metrics.json``, where every value not declared otherwise is
a number or null (a new non-numeric key is declared here by whoever writes it).

Standard library only (a shared private module: every stage and orchestrator may import it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from signalbench._validation import describe, expected

__all__ = [
    "AUDIT",
    "CONFIG",
    "HISTORY",
    "METRICS",
    "REPORTED",
    "RUN",
    "RunFolderError",
    "read_json",
    "written",
]


class RunFolderError(ValueError):
    """A run folder's file that cannot be read or written: not JSON, a wrong shape or type at a key, a full disk.

    The message names the file (and the key inside it), what was expected and what was found, in the library's
    message form (``"metrics.json columns["lstm:sign"].sharpe: expected a number or null, got 'high' (str) at
    runs/x/metrics.json"``). ``path`` is the file, ``key`` the place inside it ("" for the whole file).
    """

    def __init__(self, message: str, path: str | Path = "", key: str = "") -> None:
        super().__init__(message)
        self.path = str(path)
        self.key = key


Check = Callable[[Any, str], None]


class _Mismatch(Exception):
    """Raised by a shape: ``key`` holds ``value``, not ``what``."""

    def __init__(self, key: str, what: str, value: Any) -> None:
        super().__init__(key)
        self.key, self.what, self.value = key, what, value


# ---------------------------------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------------------------------


def _kind(test: Callable[[Any], bool], what: str) -> Check:
    def check(value: Any, key: str) -> None:
        if not test(value):
            raise _Mismatch(key, what, value)

    return check


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


anything = _kind(lambda v: True, "anything")
text = _kind(lambda v: isinstance(v, str), "a string")
boolean = _kind(lambda v: isinstance(v, bool), "true or false")
integer = _kind(lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer")
number_or_null = _kind(lambda v: v is None or _is_number(v), "a number or null")
integer_or_null = _kind(lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "an integer or null")
mapping = _kind(lambda v: isinstance(v, dict), "an object")
array = _kind(lambda v: isinstance(v, list), "a list")


def _child(key: str, name: Any) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    plain = isinstance(name, str) and name.isidentifier()
    return (f"{key}.{name}" if key else name) if plain else f"{key}[{json.dumps(name)}]"


def list_of(item: Check, what: str = "a list") -> Check:
    """A list whose every entry has the shape ``item``."""

    def check(value: Any, key: str) -> None:
        if not isinstance(value, list):
            raise _Mismatch(key, what, value)
        for k, entry in enumerate(value):
            item(entry, _child(key, k))

    return check


def mapping_of(item: Check) -> Check:
    """An object whose every value has the shape ``item``."""

    def check(value: Any, key: str) -> None:
        mapping(value, key)
        for name, entry in value.items():
            item(entry, _child(key, name))

    return check


def record(fields: Mapping[str, Check], *, required: tuple[str, ...] = (), rest: Check = anything) -> Check:
    """An object whose keys in ``fields`` have their shapes (those in ``required`` must be there), others ``rest``."""

    def check(value: Any, key: str) -> None:
        mapping(value, key)
        for name in required:
            if name not in value:
                raise _Mismatch(_child(key, name), "a value (the key is missing)", _MISSING)
        for name, entry in value.items():
            fields.get(name, rest)(entry, _child(key, name))

    return check


def either(*shapes: Check, what: str) -> Check:
    """A value of any one of ``shapes``."""

    def check(value: Any, key: str) -> None:
        for shape in shapes:
            try:
                shape(value, key)
                return
            except _Mismatch:
                continue
        raise _Mismatch(key, what, value)

    return check


def _matrix(value: Any, key: str) -> None:
    """A confusion matrix: null, or a square list of lists of finite numbers >= 0."""
    what = "null or a square matrix of counts (a list of equal-length lists of numbers >= 0)"
    if value is None:
        return
    rows = value if isinstance(value, list) else None
    if not rows or not all(isinstance(r, list) and len(r) == len(rows) for r in rows):
        raise _Mismatch(key, what, value)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if not (_is_number(v) and math.isfinite(v) and v >= 0):
                raise _Mismatch(f"{key}[{i}][{j}]", "a count (a number >= 0)", v)


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING = _Missing()

# ---------------------------------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------------------------------

_SPAN = list_of(integer, "a list of two integers [start, stop]")
_FOLD = record(
    {"train": integer, "val": integer, "test": integer, "span": _SPAN}, required=("train", "val", "test", "span")
)
_LABELS = record({"kind": text, "horizon": integer, "threshold": number_or_null, "stationary_quantile": number_or_null})
#: One column of ``metrics.json``: the keys below, every other value a number or null.
_COLUMN = record(
    {
        "benchmark": boolean,
        "tuned": boolean,
        "model": text,
        "strategy": text,
        "params": mapping,
        "chosen": array,
        "tuning": array,
    },
    rest=number_or_null,
)
#: One model of ``metrics.json``: its confusion matrix and class shares, every other value a number or null.
_MODEL = record({"confusion": _matrix, "predicted_share": list_of(number_or_null)}, rest=number_or_null)

_TEXT_OR_NULL = either(text, _kind(lambda v: v is None, "null"), what="a string or null")
#: One figure of a multi-piece block: numbers or null, what it rests on (counts), an optional note.
_ACROSS = record({"rests_on": mapping_of(integer), "note": text}, rest=number_or_null)
#: The blocks a multi-piece run adds (``pieces``, ``per_symbol``, ``per_day``, ``pooled``, ``daily``).
_PIECE_BLOCKS = {
    "pieces": record(
        {
            "tested": list_of(record({"symbol": text, "day": text, "rows": integer}, required=("symbol", "day"))),
            "missing": list_of(
                record(
                    {
                        "symbol": _TEXT_OR_NULL,
                        "day": _TEXT_OR_NULL,
                        "task": text,
                        "model": _TEXT_OR_NULL,
                        "fold": integer_or_null,
                        "error": text,
                    },
                    required=("task", "error"),
                )
            ),
        }
    ),
    "per_symbol": mapping_of(mapping_of(_ACROSS)),
    "per_day": mapping_of(mapping_of(_ACROSS)),
    "pooled": mapping_of(_ACROSS),
    "daily": record(
        {"index": list_of(text), "returns": mapping_of(list_of(number_or_null))}, required=("index", "returns")
    ),
}

_METRICS_KEYS = {
    **_PIECE_BLOCKS,
    "experiment": text,
    "data": text,
    "clock": text,
    "tested": record({"rows": integer, "labelled_rows": integer, "first": text, "last": text}),
    "split": record({"kind": text, "purge_gap": integer, "folds": list_of(_FOLD)}),
    "labels": list_of(_LABELS, "a list of label definitions (one object per fold)"),
    "bayes_accuracy": number_or_null,
    "benchmarks": list_of(text),
    "periods_per_year": number_or_null,
    "columns": mapping_of(_COLUMN),
    "models": mapping_of(_MODEL),
    "notes": list_of(text),
}
#: ``metrics.json`` (a reader that needs a key checks that it is there: :data:`REPORTED`).
METRICS = record(_METRICS_KEYS)
#: ``metrics.json`` with its ``columns`` table, as the report needs it.
REPORTED = record(_METRICS_KEYS, required=("columns",))

#: ``config.json`` (the resolved experiment; :func:`signalbench.experiment.parse_experiment` checks the rest).
CONFIG = record(
    {
        "name": text,
        "seed": integer_or_null,
        "device": text,
        "base_dir": text,
        "periods_per_year": number_or_null,
        "data": mapping,
        "labels": mapping,
        "split": mapping,
        "costs": mapping,
        "compute": mapping,
        "baselines": mapping,
        "models": list_of(mapping),
        "strategies": list_of(mapping),
        "features": either(text, list_of(text), what="a feature set name or a list of them"),
        "models_resolved": mapping_of(mapping),
    }
)

#: ``audit.json``.
AUDIT = record(
    {
        "clean": boolean,
        "checks": mapping_of(text),
        "findings": list_of(record({"check": text, "subject": text, "message": text, "figures": mapping})),
    }
)

_RANGE = list_of(integer, "a half-open range [start, stop] of two integers")
_RANGES = list_of(_RANGE, "a list of ranges [start, stop]")
_PART = record({"rows": _RANGE, "context": _RANGE, "labelled": _RANGES}, required=("rows", "context", "labelled"))
_FIT = record(
    {
        "fold": integer,
        "train": _PART,
        "val": either(_kind(lambda v: v is None, "null"), _PART, what="null or a part record"),
        "predict": record(
            {"rows": _RANGE, "context": _RANGE, "scored": _RANGE}, required=("rows", "context", "scored")
        ),
    },
    required=("fold", "train", "predict"),
)
#: ``fits.json`` of a single run: the rows each fit was given (:mod:`signalbench.experiment.fits`).
FITS_RUN = record(
    {
        "format": integer,
        "folds": list_of(
            record(
                {"fold": integer, "train": _RANGES, "val": _RANGES, "test": _RANGES, "span": _RANGE},
                required=("fold", "train", "val", "test", "span"),
            )
        ),
        "models": mapping_of(list_of(_FIT)),
    },
    required=("format", "folds", "models"),
)

_BLOCK = record(
    {"piece": integer, "rows": _RANGE, "context": _RANGE, "labelled": _RANGES},
    required=("piece", "rows", "context", "labelled"),
)
_PIECE_PART = record(
    {"piece": integer, "role": text, "train": _RANGES, "val": _RANGES, "test": _RANGES, "span": _RANGE},
    required=("piece", "role", "train", "val", "test", "span"),
)
_BAND = record(
    {"group": text, "value": number_or_null, "rows": list_of(record({"piece": integer, "rows": _RANGES}))},
    required=("group", "value", "rows"),
)
_PIECE_FIT = record(
    {
        "fold": integer,
        "group": text,
        "task": text,
        "train": list_of(_BLOCK),
        "val": list_of(_BLOCK),
        "predict": list_of(
            record(
                {"piece": integer, "rows": _RANGE, "context": _RANGE, "scored": _RANGE},
                required=("piece", "rows", "context", "scored"),
            )
        ),
    },
    required=("fold", "group", "task", "train", "val", "predict"),
)
#: ``fits.json`` of a multi-piece run (``"kind": "pieces"``): the blocks of each piece each fit was given
#: (:mod:`signalbench.experiment.piecefits`).
FITS_PIECES = record(
    {
        "format": integer,
        "kind": text,
        "horizon": integer,
        "longest": integer,
        "pieces": list_of(
            record({"symbol": text, "day": text, "rows": integer_or_null, "task": text}, required=("symbol", "day"))
        ),
        "folds": list_of(
            record(
                {"fold": integer, "parts": list_of(_PIECE_PART), "thresholds": list_of(_BAND)},
                required=("fold", "parts", "thresholds"),
            )
        ),
        "models": mapping_of(list_of(_PIECE_FIT)),
    },
    required=("format", "kind", "horizon", "longest", "pieces", "folds", "models"),
)


def FITS(value: Any, key: str) -> None:  # noqa: N802 - a shape, named like the others
    """``fits.json``: :data:`FITS_PIECES` when its ``kind`` is ``"pieces"``, else :data:`FITS_RUN`."""
    (FITS_PIECES if isinstance(value, dict) and value.get("kind") == "pieces" else FITS_RUN)(value, key)


#: ``run.json``: the layout number and, per folder under ``models/``, the model and fold it holds
#: (:mod:`signalbench._runfolder.layout`).
RUN = record(
    {
        "layout": integer,
        "models": mapping_of(record({"model": text, "fold": integer}, required=("model", "fold"))),
    },
    required=("layout",),
)

_EPOCHS = list_of(
    record({"epoch": integer}, required=("epoch",), rest=number_or_null), "a list of epochs (objects with 'epoch')"
)
#: ``history/<model>.json``: null (no training loop), a list of epochs, or one such list (or null) per fold.
HISTORY = either(
    _kind(lambda v: v is None, "null"),
    _EPOCHS,
    list_of(either(_kind(lambda v: v is None, "null"), _EPOCHS, what="null or a list of epochs")),
    what="null, a list of epochs (objects with 'epoch'), or one such list per fold",
)

_HINT = "the file was damaged or edited; run the experiment again (or restore the file) to rebuild it"


# ---------------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------------


def _found(value: Any) -> str:
    return "nothing" if value is _MISSING else describe(value)


def _kind_of(path: Path) -> str:
    if path.is_dir():
        return "a folder"
    if path.is_symlink() and not path.exists():
        return "a broken symbolic link"
    return "a special file (a device, a pipe or a socket)"


def read_json(path: str | Path, shape: Check = anything, *, required: bool = True) -> Any:
    """The JSON of a run folder's file, checked against ``shape``; None when it is missing and not ``required``.

    Parameters
    ----------
    path : path
        The file (``run_dir / "metrics.json"``, ...).
    shape : callable, default any
        :data:`METRICS`, :data:`CONFIG`, :data:`AUDIT`, :data:`HISTORY` or another shape of this module.
    required : bool, default True
        Whether a missing file is an error.

    Raises
    ------
    FileNotFoundError
        When a ``required`` file is missing (the message names the folder and the file).
    RunFolderError
        When the file cannot be read (a folder, no permission, not UTF-8), is not JSON (truncated, edited), or a key
        holds a value of the wrong shape; the message names the file and the key.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        if required:
            raise FileNotFoundError(
                expected("run_dir", f"a run folder with {path.name}", "no such file", at=str(path.parent), raw=True)
            )
        return None
    if not path.is_file():  # a folder, a device or a pipe in its place (reading a pipe would never end)
        message = expected(path.name, "a regular file", _kind_of(path), at=str(path), hint=_HINT, raw=True)
        raise RunFolderError(message, path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        found = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        message = expected(path.name, "valid JSON", found, at=str(path), hint=_HINT, raw=True)
        raise RunFolderError(message, path) from None
    except (ValueError, RecursionError) as exc:  # a number of thousands of digits; nesting deeper than Python's stack
        found = f"JSON that Python cannot hold ({type(exc).__name__}: {str(exc)[:80]})"
        message = expected(path.name, "valid JSON", found, at=str(path), hint=_HINT, raw=True)
        raise RunFolderError(message, path) from None
    except (OSError, UnicodeDecodeError) as exc:
        found = f"{type(exc).__name__}: {exc.strerror if isinstance(exc, OSError) else exc}"
        message = expected(path.name, "a readable UTF-8 JSON file", found, at=str(path), raw=True)
        raise RunFolderError(message, path) from None
    try:
        shape(value, "")
    except _Mismatch as bad:
        file = f"{path.parent.name}/{path.name}" if path.parent.name == "history" else path.name
        name = f"{file} {bad.key}" if bad.key else file
        raise RunFolderError(
            expected(name, bad.what, _found(bad.value), at=str(path), hint=_HINT, raw=True), path, bad.key
        ) from None
    return value


def written(path: str | Path, exc: BaseException, left: str, kind: str = "file") -> RunFolderError:
    """The :class:`RunFolderError` of a file (or folder) of the run folder that could not be written.

    ``exc`` says why; ``left`` what was left as it was (the writers are atomic: nothing half-written stays behind).
    """
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    found = f"{type(exc).__name__} ({reason})"
    if isinstance(exc, IsADirectoryError):
        left = f"a folder is in the way: move or remove it; {left}"
    elif isinstance(exc, NotADirectoryError):
        left = f"a file is in the way: move or remove it; {left}"
    elif isinstance(exc, PermissionError):
        left = f"choose a folder you can write to; {left}"
    message = expected(Path(path).name, f"a {kind} it can write", found, at=str(path), hint=left, raw=True)
    return RunFolderError(message, path)
