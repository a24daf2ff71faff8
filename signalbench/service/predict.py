"""Saved models of a run answering feature rows: the feature schema saved with the model is checked first.

Rows come as JSON (``{"columns": [...], "rows": [[...], ...]}``) or as an Arrow IPC stream (one column per feature).
The answer is ``model.predict_proba(X)`` on the rows in the saved feature order (rows before a model's first full
window are null, as in the library).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from signalbench.service.lru import LoadOnce

ARROW = "application/vnd.apache.arrow.stream"


class SchemaMismatch(ValueError):
    """Feature columns that are not the model's: ``missing`` and ``unexpected`` name them."""

    def __init__(self, missing: list[str], unexpected: list[str], expected_names: list[str]) -> None:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unexpected:
            parts.append(f"unexpected {unexpected}")
        super().__init__(
            f"columns: expected the model's features {expected_names}, got {'; '.join(parts)}; send exactly "
            "the features the model was trained on (any order)"
        )
        self.missing, self.unexpected = missing, unexpected


class ModelCache(LoadOnce):
    """The last ``size`` models loaded: each loaded once, then shared by the requests (predicting is read-only)."""

    def __init__(self, size: int = 8) -> None:
        super().__init__(_load_model, size)


def _load_model(path: Path):
    from signalbench.signals.registry import load

    return load(path)


def rows_from_json(body: Any) -> tuple[list[str], np.ndarray]:
    """The columns and the (n, F) float array of a JSON body ``{"columns": [...], "rows": [[...], ...]}``."""
    shaped = isinstance(body, dict) and isinstance(body.get("columns"), list) and isinstance(body.get("rows"), list)
    if not shaped:
        raise ValueError('body: expected {"columns": [names], "rows": [[numbers], ...]}, got another shape')
    columns = [str(c) for c in body["columns"]]
    for k, row in enumerate(body["rows"]):
        if not isinstance(row, list) or len(row) != len(columns):
            raise ValueError(f"rows[{k}]: expected a list of {len(columns)} numbers (one per column), got {row!r:.80}")
    try:
        X = np.array([[np.nan if v is None else v for v in row] for row in body["rows"]], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("rows: expected numbers or null, got another kind of value") from None
    return columns, X.reshape(len(body["rows"]), len(columns))


def rows_from_arrow(data: bytes) -> tuple[list[str], np.ndarray]:
    """The columns and the (n, F) float array of an Arrow IPC stream."""
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(data).read_all()
    except pa.ArrowInvalid as exc:
        raise ValueError(f"body: expected an Arrow IPC stream, got unreadable bytes ({exc})") from None
    columns = list(table.column_names)
    X = np.column_stack([table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in columns])
    return columns, X.reshape(table.num_rows, len(columns))


def predict(model, columns: list[str], X: np.ndarray) -> np.ndarray:
    """``predict_proba`` on ``X`` reordered to the model's saved features (:class:`SchemaMismatch` otherwise)."""
    names = [str(n) for n in model.feature_names_in_]
    missing = [n for n in names if n not in columns]
    unexpected = [c for c in columns if c not in names]
    if missing or unexpected or len(set(columns)) != len(columns):
        raise SchemaMismatch(missing, unexpected or sorted({c for c in columns if columns.count(c) > 1}), names)
    order = [columns.index(n) for n in names]
    return np.asarray(model.predict_proba(X[:, order]), dtype=np.float64)


def as_json(proba: np.ndarray) -> list[list[float | None]]:
    """Probabilities as lists, NaN as null."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in proba]
