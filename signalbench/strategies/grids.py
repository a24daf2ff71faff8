"""Parameter grids: one rule over the Cartesian product of parameter values, one positions frame."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["grid"]


def _as_frame(result: Any, combo: dict[str, Any]) -> tuple[np.ndarray, pd.Index | None, pd.Index | None]:
    """A rule's output as an (n, c) float array, its index, and its columns (None for 1-D output)."""
    if isinstance(result, pd.Series):
        return result.to_numpy(dtype=np.float64)[:, None], result.index, None
    if isinstance(result, pd.DataFrame):
        return result.to_numpy(dtype=np.float64), result.index, result.columns
    values = np.asarray(result, dtype=np.float64)
    if values.ndim == 1:
        return values[:, None], None, None
    if values.ndim == 2:
        return values, None, pd.RangeIndex(values.shape[1])
    raise ValueError(f"the rule returned an array of shape {values.shape} for {combo}; expected (n,) or (n, m)")


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
        If ``rule`` is not callable.
    ValueError
        If no parameter is swept, a value list is not a non-empty list/tuple/range of distinct
        hashable values, or calls return shapes or indexes that disagree.

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
    if not callable(rule):
        raise TypeError(f"rule must be callable, got {type(rule).__name__}")
    if not param_lists:
        raise ValueError("grid needs at least one swept parameter, e.g. grid(threshold, proba, enter=[0.55, 0.6])")
    names = list(param_lists)
    for name, values in param_lists.items():
        if not isinstance(values, (list, tuple, range)):
            raise ValueError(
                f"{name} must be a list, tuple or range of values to sweep, got {type(values).__name__}; "
                f"pass fixed inputs positionally or with functools.partial (or {name}=[value])"
            )
        if len(values) == 0:
            raise ValueError(f"{name} must list at least one value")
        try:
            distinct = len(set(values)) == len(values)
        except TypeError:
            raise ValueError(f"{name} values must be hashable (they label the columns)") from None
        if not distinct:
            raise ValueError(f"{name} has duplicate values {list(values)}; each combination must be unique")

    combos = list(itertools.product(*(param_lists[name] for name in names)))
    blocks: list[np.ndarray] = []
    tuples: list[tuple[Any, ...]] = []
    index: pd.Index | None = None
    inner: pd.Index | None = None
    first_shape: tuple[int, ...] | None = None
    for combo in combos:
        kwargs = dict(zip(names, combo))
        values, idx, cols = _as_frame(rule(*args, **kwargs), kwargs)
        if first_shape is None:
            first_shape, index, inner = values.shape, idx, cols
        else:
            if values.shape != first_shape:
                raise ValueError(f"rule returned shape {values.shape} for {kwargs}, but {first_shape} before")
            if (idx is None) != (index is None) or (idx is not None and not idx.equals(index)):
                raise ValueError(f"rule returned a different index for {kwargs} than for the first combination")
        blocks.append(values)
        if inner is None:
            tuples.append(tuple(combo))
        else:
            for col in inner:
                tuples.append(tuple(combo) + (col if isinstance(col, tuple) else (col,)))

    level_names: list[Any] = list(names)
    if inner is not None:
        level_names += list(inner.names)
    columns = pd.MultiIndex.from_tuples(tuples, names=level_names)
    data = np.concatenate(blocks, axis=1)
    if index is None:
        index = pd.RangeIndex(data.shape[0])
    return pd.DataFrame(data, index=index, columns=columns)
