"""Online (one event at a time) order-book features with exact offline parity: :class:`OnlineFeatures`.

Each :meth:`OnlineFeatures.update` is one call of the Numba step kernel
(:func:`~signalbench.data.features.lob_kernel.step_nb`) that the batch feature sets replay over a frame, so the row
it returns equals the frame's row of :func:`~signalbench.data.features.compute_features` bit for bit (see
docs/architecture.md, "Online features").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numba import njit

from signalbench._validation import describe, did_you_mean, expected, integer, name_list
from signalbench.data.features.lob import LOB_SETS, set_names
from signalbench.data.features.lob_kernel import Layout, reset_nb, step_nb

__all__ = ["OnlineFeatures"]

_F64 = np.dtype(np.float64)


def _sets(feature_sets: Any) -> list[str]:
    names = name_list(feature_sets, "feature_sets")
    for name in names:
        if name not in LOB_SETS:
            raise ValueError(
                expected("feature_sets", "the order-book sets 'lob_basic' and/or 'lob_levels'", name)
                + did_you_mean(name, LOB_SETS)
            )
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        raise ValueError(expected("feature_sets", "each feature set once", f"{twice!r} twice in {names}", raw=True))
    return names


def _field_error(mapping: Mapping[Any, Any], name: str) -> ValueError:
    """The error for the first field of an event that is missing or does not hold a number."""
    value = mapping.get(name, mapping.get(name.encode()))
    if value is None:
        return ValueError(expected(f"event field {name!r}", "a value", "none (the field is missing)", raw=True))
    return ValueError(expected(f"event field {name!r}", "a number (or str/bytes holding one)", value))


@njit(cache=True, error_model="numpy", _nrt=False)
def _checked_step_nb(x, out, sel, basic, slots, ring, acc, cnt, prev, full):
    """:func:`step_nb`, or the index of the first bad field of ``x`` and no state change (-1: stepped).

    Bad: an infinite value, a negative ``size`` (field 1) or a negative book value (fields 3..). NaN passes.
    """
    for j in range(x.size):
        v = x[j]
        if v == np.inf or v == -np.inf or (v < 0.0 and (j == 1 or j >= 3)):
            return j
    step_nb(x, out, sel, basic, slots, ring, acc, cnt, prev, full)
    return -1


def _readable(value: Any) -> bool:
    if not isinstance(value, int | float | str | bytes | np.integer | np.floating):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


class OnlineFeatures:
    """The order-book feature sets computed one event at a time, equal to the batch frame row for row.

    Parameters
    ----------
    feature_sets : str or sequence of str, default "lob_basic"
        ``"lob_basic"``, ``"lob_levels"`` or both (columns combined as :func:`compute_features` combines them).
    levels : int, default 1
        Book levels of the events (``lob_basic``'s multi-level OFI and ``lob_levels`` use all of them): the number
        of levels of the frame the batch features are compared with.

    Attributes
    ----------
    names : tuple of str
        Feature names, identical in order to ``compute_features(df, feature_sets).columns``.
    fields : tuple of str
        Event fields read, in order (columns of :func:`signalbench.data.load_lobster`'s frame): ``type, size,
        direction`` then ``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` for each level. An empty level is
        NaN, as in the loader's frame. (Synthetic ticks: ``type`` 4, ``size = volume``, ``direction =
        -trade_sign``, as the batch path reads them.)

    Notes
    -----
    State lives in a few NumPy arrays (ring buffers of the last 128 events per series, running sums recomputed
    from the ring every window so they never drift, the previous book); :meth:`update` is one Numba call. See
    docs/architecture.md, "Online features".
    """

    def __init__(self, feature_sets: str | Sequence[str] = "lob_basic", *, levels: int = 1) -> None:
        self.feature_sets = tuple(_sets(feature_sets))
        levels = integer(levels, "levels", minimum=1)
        self._layout = layout = Layout(levels, basic="lob_basic" in self.feature_sets)
        self.names: tuple[str, ...] = set_names(self.feature_sets, layout.levels)
        self.fields: tuple[str, ...] = layout.fields
        self._str_keys = self.fields
        self._bytes_keys = tuple(name.encode() for name in self.fields)
        self._shape = (len(self.fields),)
        self._state = layout.new_state()
        self._out = np.empty(len(self.names))
        sel = np.array([layout.index(n) for n in self.names], dtype=np.int64)
        s = self._state
        self._args = (
            self._out,
            sel,
            layout.basic,
            layout.slots,
            s["ring"],
            s["acc"],
            s["cnt"],
            s["prev"],
            np.empty(layout.n_full),
        )

    @property
    def levels(self) -> int:
        """Book levels of the events."""
        return self._layout.levels

    def __repr__(self) -> str:
        return f"OnlineFeatures({list(self.feature_sets)!r}, levels={self.levels})"

    def event_vector(self, mapping: Mapping[Any, Any]) -> np.ndarray:
        """The event as a float64 vector in :attr:`fields` order.

        Parameters
        ----------
        mapping : mapping
            Field name (str or bytes, as read from Redis) -> value (number, or str/bytes holding one; ``"nan"``
            for an empty level). Other keys are ignored.

        Returns
        -------
        numpy.ndarray
            Float64, ``len(fields)``.

        Raises
        ------
        ValueError
            Naming the field that is missing or does not hold a number.
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(expected("mapping", "a mapping of event field -> value", mapping))
        keys = self._str_keys if self._str_keys[0] in mapping else self._bytes_keys
        try:
            return np.array([float(mapping[key]) for key in keys])
        except (KeyError, TypeError, ValueError):
            return self._checked_vector(mapping)

    def _checked_vector(self, mapping: Mapping[Any, Any]) -> np.ndarray:
        """:meth:`event_vector` field by field (keys str or bytes), naming the first field that is not a number."""
        x = np.empty(self._shape)
        for j, name in enumerate(self.fields):
            value = mapping.get(name, mapping.get(name.encode()))
            if not _readable(value):
                raise _field_error(mapping, name)
            x[j] = float(value)
        return x

    def _vector(self, x: Any) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 1 or x.shape != self._shape:
            raise ValueError(
                expected("x", f"a 1-D array of the {len(self.fields)} fields {self.fields}", describe(x), raw=True)
            )
        if x.dtype.kind not in "fiu":
            raise TypeError(expected("x", "float64 numbers", f"dtype {x.dtype}", raw=True))
        return np.ascontiguousarray(x, dtype=np.float64)

    def update(self, x: np.ndarray) -> np.ndarray:
        """Advance by one event and return its feature row.

        Parameters
        ----------
        x : numpy.ndarray
            1-D float64 event in :attr:`fields` order (see :meth:`event_vector`).

        Returns
        -------
        numpy.ndarray
            Float64 row of ``len(names)``: NaN during warm-up exactly where the batch frame has NaN. A buffer
            reused by the next call: copy it to keep it.

        Raises
        ------
        ValueError
            For an infinite value, a negative ``size``, or a negative book price or size, naming the field; the
            state is left as it was. NaN is a missing value (an empty level is NaN price and size, as in the
            loader's frame) and zero is accepted (a zero price gives NaN or inf features, as in the batch path);
            ``type`` and ``direction`` are not checked (a type other than 4 and 5 is not a trade).
        """
        if x.__class__ is not np.ndarray or x.dtype is not _F64 or x.shape != self._shape or not x.flags.c_contiguous:
            x = self._vector(x)
        bad = _checked_step_nb(x, *self._args)
        if bad >= 0:
            raise ValueError(expected(f"event field {self.fields[bad]!r}", "a finite value, >= 0 for a size or price "
                                      "(NaN: missing)", float(x[bad]), raw=True))  # fmt: skip
        return self._out

    def reset(self) -> None:
        """Start a new group (day): the same restart as the batch path's ``groups="day"``."""
        s = self._state
        reset_nb(s["ring"], s["acc"], s["cnt"], s["prev"])

    def get_state(self) -> dict[str, np.ndarray]:
        """A copy of the state: restoring it with :meth:`set_state` continues exactly as if never stopped.

        Returns
        -------
        dict of str to numpy.ndarray
            ``ring``, ``acc``, ``cnt``, ``prev`` (see :mod:`~signalbench.data.features.lob_kernel`).
        """
        return {k: v.copy() for k, v in self._state.items()}

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore a state from :meth:`get_state` of an instance with the same levels.

        Parameters
        ----------
        state : mapping of str to numpy.ndarray
            The arrays ``ring``, ``acc``, ``cnt``, ``prev``.

        Raises
        ------
        ValueError
            Naming the key that is missing or whose shape or dtype does not match (e.g. another number of levels).
        """
        if not isinstance(state, Mapping):
            raise TypeError(expected("state", "a mapping from get_state()", state))
        for key, own in self._state.items():
            if key not in state:
                raise ValueError(expected("state", f"the arrays {sorted(self._state)}", f"no {key!r}", raw=True))
            value = np.asarray(state[key])
            if value.shape != own.shape or value.dtype != own.dtype:
                raise ValueError(
                    expected(
                        f"state[{key!r}]",
                        f"{own.dtype} of shape {own.shape} (levels={self.levels})",
                        f"{value.dtype} of shape {value.shape}",
                        raw=True,
                    )
                )
        for key, own in self._state.items():
            own[...] = state[key]
