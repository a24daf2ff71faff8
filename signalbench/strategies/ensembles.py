"""Combining several models' class probabilities into one set of probabilities (a "master signal").

The result is an (n, k) probability array like each member's, so every rule of
:mod:`signalbench.strategies` accepts it (``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from signalbench._validation import choice, expected, numeric_array
from signalbench.strategies._inputs import as_proba, check_same_index

__all__ = ["ensemble"]


def ensemble(probas: Any, weights: Any = None, method: str = "mean") -> Any:
    """Combine several models' class probabilities into one "master signal".

    Parameters
    ----------
    probas : sequence or mapping of array-like / pandas.DataFrame
        Two or more (n, k) probability arrays with the same n and k, aligned row by row.
    weights : sequence or mapping of float, optional
        One non-negative weight per model (a mapping must have the keys of ``probas``), not all
        zero; normalised to sum to 1. Default: equal weights.
    method : {"mean", "vote"}, default "mean"
        ``"mean"``: the weighted average of the probability rows. ``"vote"``: each model votes
        for its most likely class (a tie splits its vote equally between the tied classes) and
        the result is each class's weighted share of the votes.

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        (n, k) probabilities (rows sum to 1), usable by every rule of :mod:`signalbench.strategies`.
        A row is NaN when any model's row is NaN: the ensemble waits for its slowest member's warm-up
        rather than guess with fewer models. pandas out (with the first pandas input's index and
        columns) when any input is pandas.

    Raises
    ------
    TypeError
        If ``probas`` is not a list or dict, or weights or probabilities are not numbers.
    ValueError
        On fewer than two models, invalid probabilities, mismatched shapes or indexes, bad
        weights or an unknown method.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.2, 0.8], [0.6, 0.4]])
    >>> b = np.array([[0.6, 0.4], [0.7, 0.3]])
    >>> ensemble([a, b])
    array([[0.4 , 0.6 ],
           [0.65, 0.35]])
    >>> ensemble([a, b, b], method="vote")
    array([[0.66666667, 0.33333333],
           [1.        , 0.        ]])
    """
    names, members = _members(probas)
    method = choice(method, "method", ("mean", "vote"))
    stack, index, columns = _stack(names, members)
    w = _weights(weights, names)
    if method == "vote":
        top = stack.max(axis=2, keepdims=True)
        with np.errstate(invalid="ignore"):
            votes = (stack == top).astype(np.float64)
            votes /= votes.sum(axis=2, keepdims=True)
        votes[np.isnan(stack)] = np.nan
        stack = votes
    out = np.tensordot(w, stack, axes=1)  # (n, k); NaN wherever any model's row is NaN
    return out if index is None else pd.DataFrame(out, index=index, columns=columns)


def _members(probas: Any) -> tuple[list[Any], list[Any]]:
    """The models' names (dict keys or positions) and their probability inputs."""
    if isinstance(probas, Mapping):
        names = list(probas)
        members = [probas[key] for key in names]
    elif isinstance(probas, Sequence) and not isinstance(probas, str | bytes):
        names = list(range(len(probas)))
        members = list(probas)
    else:
        raise TypeError(expected("probas", "a list (or dict) of (n, k) probability arrays", probas))
    if len(members) < 2:
        raise ValueError(expected("probas", "at least two models", f"{len(members)}", raw=True))
    return names, members


def _stack(names: list[Any], members: list[Any]) -> tuple[np.ndarray, Any, Any]:
    """Validate every member; return the (n_models, n, k) stack and the first pandas index and columns."""
    arrays: list[np.ndarray] = []
    index = columns = None
    for name, member in zip(names, members):
        label = f"probas[{name!r}]"
        p, idx, cols = as_proba(member, label)
        if arrays and p.shape != arrays[0].shape:
            raise ValueError(expected(label, f"shape {arrays[0].shape} like the first model", f"{p.shape}", raw=True))
        if idx is not None:
            if index is None:
                index, columns = idx, cols
            else:
                check_same_index(index, idx, label, "the first pandas model")
        arrays.append(p)
    return np.stack(arrays), index, columns


def _weights(weights: Any, names: list[Any]) -> np.ndarray:
    """Non-negative weights, one per model, not all zero, normalised to sum to 1."""
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    if isinstance(weights, Mapping):
        if set(weights) != set(names):
            raise ValueError(expected("weights", f"the keys of probas {names}", f"{list(weights)}", raw=True))
        weights = [weights[key] for key in names]
    w, _, _ = numeric_array(weights, "weights", ndim=(1,), allow_nan=False)
    if w.shape != (len(names),):
        raise ValueError(expected("weights", f"one value per model ({len(names)})", f"{w.shape[0]}", raw=True))
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(expected("weights", "non-negative values, not all zero", w.tolist()))
    return w / w.sum()
