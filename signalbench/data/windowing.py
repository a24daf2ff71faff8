"""Sequence windows over a feature matrix, without copying it.

A sequence model sees, for output row ``t``, the input rows ``t - seq_len + 1 .. t``. :func:`windows` gives all of
them at once as a read-only strided view of shape ``(n - seq_len + 1, seq_len, F)`` (``numpy``'s
``sliding_window_view``: no data is copied, so 1,000,000 x 40 features x 100 steps costs nothing instead of the
16 GB that a Python loop stacking windows allocates). Window ``k`` ends at row ``k + seq_len - 1``
(:func:`window_rows`). :func:`iter_batches` turns consecutive windows into torch tensors one batch at a time.

Rows are the unit everywhere: ``start`` and ``stop`` of :func:`iter_batches` and :func:`window_rows` are the rows the
windows *end* at (the rows whose predictions they produce), as returned by :mod:`signalbench.data.splits`.

(The module is ``windowing``, not ``windows``, so that ``signalbench.data.windows`` is always the function.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from signalbench._validation import expected, integer, numeric_array

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["iter_batches", "window_rows", "windows"]


def _matrix(X) -> np.ndarray:
    """``X`` as a 2-D array: NumPy numbers as they are (so windows stay views), anything else converted once."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim in (1, 2):
        arr = X
    else:
        arr, _, _ = numeric_array(X, "X", ndim=(1, 2), allow_inf=True)
    return arr[:, None] if arr.ndim == 1 else arr


def _seq_len(seq_len, n: int) -> int:
    L = integer(seq_len, "seq_len", minimum=1)
    if L > n:
        raise ValueError(expected("seq_len", f"at most the {n} rows of X (a complete window)", L))
    return L


def windows(X, seq_len: int) -> np.ndarray:
    """All windows of ``seq_len`` consecutive rows of ``X``, as a read-only view (no copy).

    Parameters
    ----------
    X : numpy.ndarray or pandas.DataFrame
        Features, shape ``(n, F)`` in time order (a 1-D array is one feature). A DataFrame is converted once to a
        float64 array (that conversion copies; pass ``df.to_numpy()`` yourself to keep the array).
    seq_len : int
        Window length, ``1 <= seq_len <= n``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n - seq_len + 1, seq_len, F)``; ``out[k] == X[k : k + seq_len]``; window ``k`` ends at row
        ``k + seq_len - 1``. It shares memory with ``X`` and is not writeable.

    Raises
    ------
    TypeError
        If ``X`` holds no numbers (strings, datetimes) or ``seq_len`` is not an integer.
    ValueError
        If ``X`` is not 1-D or 2-D or ``seq_len`` is out of range.
    """
    X = _matrix(X)
    L = _seq_len(seq_len, X.shape[0])
    view = sliding_window_view(X, L, axis=0)  # (n - L + 1, F, L)
    return view.transpose(0, 2, 1)  # (n - L + 1, L, F), still a view


def _row_range(n: int, L: int, start, stop) -> tuple[int, int]:
    first = L - 1
    lo = integer(start, "start", allow_none=True, what="an integer row or None")
    hi = integer(stop, "stop", allow_none=True, what="an integer row or None")
    lo = first if lo is None else lo
    hi = n if hi is None else hi
    if lo < first:
        raise ValueError(
            expected("start", f"a row >= {first} (with seq_len={L} the first complete window ends at row {first})", lo)
        )
    if hi > n:
        raise ValueError(expected("stop", f"a row <= {n} (the rows of X)", hi))
    if hi < lo:
        raise ValueError(expected("stop", f"a row >= start ({lo})", hi))
    return lo, hi


def window_rows(n: int, seq_len: int, *, start: int | None = None, stop: int | None = None) -> np.ndarray:
    """The row each window ends at: the output row of its prediction.

    Window ``k`` (``windows(X, seq_len)[k]``) covers rows ``k .. k + seq_len - 1`` and belongs to row
    ``k + seq_len - 1``. With ``start``/``stop`` this lists the rows :func:`iter_batches` yields windows for, in
    the same order.

    Parameters
    ----------
    n : int
        Number of rows of ``X``.
    seq_len : int
        Window length.
    start, stop : int, optional
        First and one-past-last row (default ``seq_len - 1`` and ``n``).

    Returns
    -------
    numpy.ndarray
        Int64 rows ``start, start + 1, ..., stop - 1``.
    """
    n = integer(n, "n", minimum=0)
    L = _seq_len(seq_len, n)
    lo, hi = _row_range(n, L, start, stop)
    return np.arange(lo, hi, dtype=np.int64)


_NUMPY_OF_TORCH = {"float32": np.float32, "float64": np.float64, "float16": np.float16}


def iter_batches(
    X,
    seq_len: int,
    batch_size: int,
    *,
    start: int | None = None,
    stop: int | None = None,
    device: Any = "cpu",
    dtype: Any = None,
) -> Iterator[torch.Tensor]:
    """Yield consecutive windows as torch tensors of shape ``(batch, seq_len, F)``, one batch in memory at a time.

    The windows end at rows ``start, start + 1, ..., stop - 1`` in that order (see :func:`window_rows`); the last
    batch may be shorter. Each batch is one contiguous copy of a slice of the :func:`windows` view, converted to
    ``dtype`` and moved to ``device``; the generator keeps no reference to a batch once the next is requested, so
    a loop that drops its own reference (``for xb in iter_batches(...)``) holds one batch at a time. (``enumerate``
    caches its last ``(i, xb)`` tuple, which keeps the previous batch alive while the next one is copied: two.)

    Parameters
    ----------
    X : numpy.ndarray or pandas.DataFrame
        Features, shape ``(n, F)``, in time order.
    seq_len : int
        Window length.
    batch_size : int
        Windows per batch (>= 1).
    start : int, optional
        First row to produce a window for; default ``seq_len - 1`` (the first complete window). Rows before it
        may serve as context.
    stop : int, optional
        One past the last row; default ``n``.
    device : str or torch.device, default "cpu"
        Where the tensors go.
    dtype : torch.dtype, optional
        Tensor dtype, default ``torch.float32``.

    Yields
    ------
    torch.Tensor
        ``(batch, seq_len, F)``.

    Raises
    ------
    TypeError
        For an ``X`` that holds no numbers, a ``seq_len``, ``batch_size``, ``start`` or ``stop`` that is not an
        integer, or a ``dtype`` that is not a torch dtype.
    ValueError
        For values of those out of range.
    """
    import torch  # lazily: importing signalbench.data must not import torch

    batch_size = integer(batch_size, "batch_size", minimum=1)
    if dtype is None:
        dtype = torch.float32
    if not isinstance(dtype, torch.dtype):
        raise TypeError(expected("dtype", "a torch.dtype such as torch.float32", dtype))
    view = windows(X, seq_len)  # (n - L + 1, L, F)
    n = view.shape[0] + view.shape[1] - 1
    L = view.shape[1]
    lo, hi = _row_range(n, L, start, stop)
    np_dtype = _NUMPY_OF_TORCH.get(str(dtype).removeprefix("torch."))
    return _batches(view, lo - (L - 1), hi - (L - 1), batch_size, np_dtype, device, dtype)


def _batches(view, k0, k1, batch_size, np_dtype, device, dtype):
    import torch

    for k in range(k0, k1, batch_size):
        chunk = view[k : min(k + batch_size, k1)]  # (batch, L, F) view
        if np_dtype is not None:
            batch = np.array(chunk, dtype=np_dtype, order="C")  # the one copy
            tensor = torch.from_numpy(batch).to(device=device)
        else:  # dtypes numpy lacks (e.g. bfloat16): copy as float32, then convert
            batch = np.array(chunk, dtype=np.float32, order="C")
            tensor = torch.from_numpy(batch).to(device=device, dtype=dtype)
        del batch, chunk
        yield tensor
        del tensor
