"""Parameter grids: one rule over the Cartesian product of parameter values, one positions frame.

Every combination's positions land in one frame, so one :func:`signalbench.engine.backtest` call prices them
all on identical costs (``docs/architecture.md``). A grid too large for memory comes lazily from
:func:`grid_chunks`: the same columns, a chunk at a time, for ``backtest(..., keep="stats")``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import expected
from signalbench.strategies._inputs import as_values

__all__ = ["GridChunks", "check_param_lists", "grid", "grid_chunks"]


def _as_frame(result: Any, combo: dict[str, Any]) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """A rule's output as an (n, c) float array, its index, and its columns (None for 1-D output)."""
    values, index, columns = as_values(result, f"the rule's output for {combo}", ndim=(1, 2))
    if values.ndim == 1:
        return values[:, None], index, None
    return values, index, (pd.RangeIndex(values.shape[1]) if columns is None else columns)


def check_param_lists(param_lists: Mapping[str, Any]) -> None:
    """Each swept parameter's values: a non-empty list, tuple or range of distinct, hashable values.

    A single value or an array is a ``TypeError`` (pass fixed inputs positionally or with
    :func:`functools.partial`); an empty list or duplicates are a ``ValueError``.
    """
    for name, values in param_lists.items():
        if not isinstance(values, list | tuple | range):
            raise TypeError(
                expected(
                    name,
                    "a list, tuple or range of values to sweep",
                    values,
                    hint=f"pass fixed inputs positionally or with functools.partial (or {name}=[value])",
                )
            )
        if len(values) == 0:
            raise ValueError(expected(name, "at least one value to sweep", "an empty list", raw=True))
        try:
            distinct = len(set(values)) == len(values)
        except TypeError:
            raise TypeError(expected(name, "hashable values (they label the columns)", list(values))) from None
        if not distinct:
            raise ValueError(expected(name, "distinct values (each combination must be unique)", list(values)))


def grid(rule: Callable[..., Any], *args: Any, **param_lists: Any) -> pd.DataFrame:
    """Run ``rule`` over every combination of parameter values; return all positions in one frame.

    Parameters
    ----------
    rule : callable
        A position rule, e.g. :func:`~signalbench.strategies.threshold`; it is called as
        ``rule(*args, **combination)`` once per combination and must return (n,) or (n, m)
        positions (numpy or pandas).
    *args
        Fixed inputs passed unchanged to every call (probabilities, prices, ...). Fixed keyword
        inputs that are not swept go through :func:`functools.partial`.
    **param_lists : list, tuple or range
        For each swept parameter, its values (distinct, hashable; a single value is a one-element
        list). The combinations run in ``itertools.product`` order: the last parameter varies
        fastest.

    Returns
    -------
    pandas.DataFrame
        (n, n_combinations * m) positions. Columns are a MultiIndex with one level per swept
        parameter, named after it, holding that combination's values; when the rule returns
        (n, m) positions, the rule's own column level(s) follow (named after them, or ``None``
        for numpy output, whose columns are ``0..m-1``). The index is the rule's output index when
        it returns pandas, else a RangeIndex. Pass it to :func:`signalbench.engine.backtest` to price
        every combination on identical costs in one call.

    Raises
    ------
    TypeError
        If ``rule`` is not callable, a value list is not a list, tuple or range, or its values are not
        hashable.
    ValueError
        If no parameter is swept, a value list is empty or has duplicates, or calls return shapes or
        indexes that disagree.

    Examples
    --------
    >>> import numpy as np
    >>> from signalbench.strategies import threshold
    >>> p = np.array([[0.3, 0.7], [0.42, 0.58], [0.5, 0.5]])
    >>> grid(threshold, p, enter=[0.55, 0.6])
    enter 0.55 0.60
    0      1.0  1.0
    1      1.0  0.0
    2      0.0  0.0
    """
    return next(iter(grid_chunks(rule, *args, **param_lists)(sys.maxsize)))


def grid_chunks(rule: Callable[..., Any], *args: Any, **param_lists: Any) -> GridChunks:
    """The columns of :func:`grid`, lazily: a callable ``make(width)`` yielding frames of about ``width`` columns.

    Pass it as ``position`` to ``backtest(price, chunks, keep="stats", memory=...)``: the engine asks for
    chunks as wide as its memory budget allows, prices each as it comes, and the (n, combinations) position
    matrix never exists. Each chunk holds whole combinations (at least one), labelled as in :func:`grid`, and the
    chunks in order hold exactly :func:`grid`'s columns; the rule runs when a chunk is asked for.

    Raises
    ------
    TypeError, ValueError
        As :func:`grid`, for the rule and the value lists at once; for the rule's outputs as the chunks come.

    Examples
    --------
    >>> import numpy as np
    >>> from signalbench.strategies import threshold
    >>> p = np.array([[0.3, 0.7], [0.42, 0.58], [0.5, 0.5]])
    >>> [chunk.shape for chunk in grid_chunks(threshold, p, enter=[0.55, 0.6, 0.65])(2)]
    [(3, 2), (3, 1)]
    """
    if not callable(rule):
        raise TypeError(expected("rule", "a callable position rule", rule))
    if not param_lists:
        raise ValueError(
            expected(
                "grid",
                "at least one swept parameter",
                "none",
                raw=True,
                hint="e.g. grid(threshold, proba, enter=[0.55, 0.6])",
            )
        )
    check_param_lists(param_lists)
    names = list(param_lists)
    combos = [dict(zip(names, c)) for c in itertools.product(*(param_lists[name] for name in names))]
    return GridChunks(rule, args, names, combos)


class GridChunks:
    """A parameter grid's positions made chunk by chunk (see :func:`grid_chunks`); ``len`` is the combinations."""

    def __init__(self, rule: Callable[..., Any], args: tuple[Any, ...], names: list[str], combos: list[dict]) -> None:
        self.rule, self.args, self.names, self.combos = rule, args, names, combos

    def __len__(self) -> int:
        return len(self.combos)

    def __call__(self, width: int) -> Iterator[pd.DataFrame]:
        """Frames of whole combinations, each closed once it reaches ``width`` columns (the last may be narrower)."""
        pending: list[tuple[dict[str, Any], np.ndarray]] = []
        size = 0
        for combo, values, index, inner in _run(self.rule, self.args, self.combos):
            pending.append((combo, values))
            size += values.shape[1]
            if size >= width:
                frame = _frame(pending, index, inner, self.names)
                pending, size = [], 0  # the blocks are freed while the frame is priced
                yield frame
                del frame  # and the frame before the next one is built
        if pending:
            yield _frame(pending, index, inner, self.names)


def _frame(
    blocks: list[tuple[dict[str, Any], np.ndarray]], index: pd.Index | None, inner: pd.Index | None, names: list[str]
) -> pd.DataFrame:
    """Combinations' positions side by side, columns labelled by parameter values (then the rule's own)."""
    tuples: list[tuple[Any, ...]] = []
    for combo, _ in blocks:
        key = tuple(combo.values())
        if inner is None:
            tuples.append(key)
        else:
            tuples.extend(key + (col if isinstance(col, tuple) else (col,)) for col in inner)
    level_names: list[Any] = names + ([] if inner is None else list(inner.names))
    columns = pd.MultiIndex.from_tuples(tuples, names=level_names)
    data = np.concatenate([values for _, values in blocks], axis=1)
    return pd.DataFrame(data, index=pd.RangeIndex(data.shape[0]) if index is None else index, columns=columns)


def _run(
    rule: Callable[..., Any], args: tuple[Any, ...], combos: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any], np.ndarray, pd.Index | None, pd.Index | None]]:
    """Call the rule once per combination; every call must return the first call's shape and index."""
    shape = index = inner = None
    for combo in combos:
        values, idx, cols = _as_frame(rule(*args, **combo), combo)
        if shape is not None:
            if values.shape != shape:
                raise ValueError(
                    expected("rule", f"output of shape {shape} (as before)", f"{values.shape}", raw=True)
                    + f" for {combo}"
                )
            if (idx is None) != (index is None) or (idx is not None and not idx.equals(index)):
                raise ValueError(
                    expected(
                        "rule", "the same output index for every combination", f"another one for {combo}", raw=True
                    )
                )
        else:
            shape, index, inner = values.shape, idx, cols
        yield combo, values, index, inner
