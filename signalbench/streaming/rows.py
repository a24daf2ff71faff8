"""The prediction row: the one place that says which columns the sink holds, their types, and how a row is made.

The consumer builds each row with :func:`prediction_row` and stamps it with :func:`stamp_published`, the sink writes
it with :func:`arrow_schema`, and ``signalbench stream evaluate`` requires :data:`REQUIRED_COLUMNS` of it
(``docs/architecture.md``, "Streaming").

Columns, in order: ``event_id`` (str), ``pos`` (int64), ``time`` (timestamp ns), ``pred`` (int64, null where the
model makes no prediction: warm-up), ``p_<class>`` (float64 per class), ``mode``, ``backend``, ``model`` (str),
``feature_us``, ``model_us``, ``e2e_us`` (float64), ``producer_ns``, ``received_ns``, ``published_ns`` (int64 unix
ns). ``e2e_us = (published_ns - producer_ns) / 1e3``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "arrow_schema", "prediction_row", "prob_column", "stamp_published"]

# (name, Arrow type alias, read by ``stream evaluate``); the p_<class> columns go after "pred".
_HEAD = (("event_id", "string", True), ("pos", "int64", True), ("time", "timestamp[ns]", False),
         ("pred", "int64", True))  # fmt: skip
_TAIL = (
    ("mode", "string", False),
    ("backend", "string", False),
    ("model", "string", False),
    ("feature_us", "float64", True),
    ("model_us", "float64", True),
    ("e2e_us", "float64", True),
    ("producer_ns", "int64", False),
    ("received_ns", "int64", True),
    ("published_ns", "int64", True),
)

#: The sink's columns besides the class probabilities, in order.
COLUMNS = tuple(name for name, _, _ in _HEAD + _TAIL)
#: The columns evaluation reads (besides one ``p_<class>`` column per class).
REQUIRED_COLUMNS = tuple(name for name, _, needed in _HEAD + _TAIL if needed)


def prob_column(cls: Any) -> str:
    """The probability column of class ``cls``: ``p_<class>``."""
    return f"p_{cls}"


def arrow_schema(classes: Sequence[Any]):
    """The ``pyarrow.Schema`` of a sink file for a model with ``classes`` (pyarrow is imported here only)."""
    import pyarrow as pa

    columns = [(n, t) for n, t, _ in _HEAD] + [(prob_column(c), "float64") for c in classes]
    columns += [(n, t) for n, t, _ in _TAIL]
    return pa.schema([(n, pa.type_for_alias(t)) for n, t in columns])


def prediction_row(eid: str, pos: int, time: int, probs: np.ndarray, classes: Sequence[Any], *, mode: str,
                   backend: str, model: str, feature_us: float, model_us: float, producer_ns: int,
                   received_ns: int) -> dict[str, Any]:  # fmt: skip
    """One row before publishing (:func:`stamp_published` adds ``published_ns`` and ``e2e_us``).

    ``pred`` is the class of the largest probability, None when the probabilities are not all finite (warm-up).
    """
    total = float(np.add.reduce(probs))
    pred = classes[int(np.argmax(probs))] if total - total == 0.0 else None  # a finite sum: every value finite
    row: dict[str, Any] = {"event_id": eid, "pos": pos, "time": time, "pred": pred}
    row.update({prob_column(c): float(p) for c, p in zip(classes, probs)})
    row.update(mode=mode, backend=backend, model=model, feature_us=feature_us, model_us=model_us,
               producer_ns=producer_ns, received_ns=received_ns)  # fmt: skip
    return row


def stamp_published(row: dict[str, Any], published_ns: int) -> dict[str, Any]:
    """Set ``published_ns`` and ``e2e_us`` (producer to published, microseconds); return the row."""
    row["published_ns"] = published_ns
    row["e2e_us"] = (published_ns - row["producer_ns"]) / 1e3
    return row
