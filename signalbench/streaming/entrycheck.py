"""Every field of a stream entry checked before it touches any state (``docs/architecture.md``, "Streaming").

:class:`EntryCheck` refuses, with a ValueError naming the field (the dead-letter reason), an entry with

- a value longer than :data:`MAX_CHARS` characters (a field of a million digits);
- ``pos``, ``time`` or ``producer_ns`` that is not an integer within int64 (``pos >= 0``), a ``day`` that is not a
  date (:func:`signalbench.streaming.codec.parse_meta`);
- a column of :func:`signalbench.load_lobster`'s frame outside its domain: ``type`` an integer 1..7, ``direction``
  -1 or 1, ``halt`` 0 or 1, ``order_id`` an integer within int64, ``size`` finite in [0, :data:`MAX_SIZE`], ``price``
  finite in (0, :data:`MAX_PRICE`) dollars (``nan`` only on a type-7 halt row, whose price is a code), book prices
  ``ask_price_i`` / ``bid_price_i`` in (0, :data:`MAX_PRICE`) and sizes in [0, :data:`MAX_SIZE`], or both ``nan``:
  an empty level, the loader's marker (LOBSTER's raw ``+-9999999999`` placeholders are not prices and are refused);
- with ``levels`` given, book levels other than ``levels`` (data of another depth than the model's).

Fields it does not know are checked for length only. The rules of an entry layout (its field names) are built once
and cached; the values are parsed once and checked in one Numba call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from signalbench.streaming.codec import EventMeta, parse_meta

__all__ = ["MAX_CHARS", "MAX_PRICE", "MAX_SIZE", "EntryCheck"]

#: The longest field value accepted (a float's ``repr`` takes at most 24 characters).
MAX_CHARS = 64
#: Prices are below this many dollars.
MAX_PRICE = 1e9
#: Sizes are at most this many shares (2**53: every integer below it is exact in float64).
MAX_SIZE = float(2**53)

_MAX_PLANS = 64  # entry layouts remembered
_BOOK = re.compile(r"^(ask|bid)_(price|size)_([1-9][0-9]*)$")
_TINY = 5e-324  # the smallest float above 0: "x >= _TINY" is "x > 0"
# name -> (low, high, integer, nan allowed, what is expected)
_PRICE = (_TINY, np.nextafter(MAX_PRICE, 0), False, True, f"a price > 0 and < {MAX_PRICE:g} dollars, or nan with "
          "the level's size nan (an empty level)")  # fmt: skip
_SIZE = (0.0, MAX_SIZE, False, True, f"a size in [0, {MAX_SIZE:.0f}], or nan with the level's price nan (an empty "
         "level)")  # fmt: skip
_RULES = {
    "type": (1.0, 7.0, True, False, "an event type, an integer 1..7"),
    "order_id": (-(2.0**63), np.nextafter(2.0**63, 0), True, False, "an integer within int64"),
    "size": (0.0, MAX_SIZE, False, False, f"a finite size in [0, {MAX_SIZE:.0f}]"),
    "price": (
        _TINY,
        _PRICE[1],
        False,
        True,
        f"a finite price > 0 and < {MAX_PRICE:g} dollars (nan only on a type-7 halt row)",
    ),  # fmt: skip
    "direction": (-1.0, 1.0, True, False, "-1 or 1"),
    "halt": (0.0, 1.0, True, False, "0 or 1"),
}


def _rule(name: str) -> tuple | None:
    if name in _RULES:
        return _RULES[name]
    m = _BOOK.match(name)
    if m is None:
        return None
    return _PRICE if m[2] == "price" else _SIZE


@njit(cache=True)
def _first_bad_nb(x, low, high, integer, nan_ok, direction, price, etype, pair_price, pair_size):
    """Index of the first value outside its rule (see :class:`_Plan`), or -1."""
    for j in range(x.size):
        v = x[j]
        if v != v:  # nan: an empty level, or a halt row's price
            if not nan_ok[j] or (j == price and not (etype >= 0 and x[etype] == 7.0)):
                return j
            continue
        if not (low[j] <= v <= high[j]) or (integer[j] and v != np.floor(v)) or (j == direction and v == 0.0):
            return j
    for k in range(pair_price.size):
        p, q = pair_price[k], pair_size[k]
        if (x[p] != x[p]) != (x[q] != x[q]):  # one of a level's price and size is nan: blame that one
            return p if x[p] != x[p] else q
    return -1


class _Plan:
    """The checks of one entry layout (its field names, in order), as arrays over its numeric fields."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        known = [(k, _rule(k)) for k in keys]
        known = [(k, r) for k, r in known if r is not None]
        self.names = tuple(k for k, _ in known)
        self.low = np.array([r[0] for _, r in known])
        self.high = np.array([r[1] for _, r in known])
        self.integer = np.array([r[2] for _, r in known], dtype=bool)
        self.nan_ok = np.array([r[3] for _, r in known], dtype=bool)
        self.what = tuple(r[4] for _, r in known)
        index = {k: j for j, k in enumerate(self.names)}
        pairs = [(index[k], index[k.replace("_price_", "_size_")]) for k in self.names
                 if _BOOK.match(k) and "_price_" in k and k.replace("_price_", "_size_") in index]  # fmt: skip
        self.args = (self.low, self.high, self.integer, self.nan_ok, index.get("direction", -1),
                     index.get("price", -1), index.get("type", -1), np.array([p for p, _ in pairs], dtype=np.int64),
                     np.array([q for _, q in pairs], dtype=np.int64))  # fmt: skip
        self.levels = {int(m[3]) for m in map(_BOOK.match, keys) if m is not None}


class EntryCheck:
    """Check a stream entry's fields (see the module docstring); :meth:`__call__` returns its :class:`EventMeta`.

    Parameters
    ----------
    levels : int, optional
        The book levels every entry must have (the model's depth); None: any.
    """

    def __init__(self, levels: int | None = None) -> None:
        self.levels = levels
        self._depth = set(range(1, levels + 1)) if levels is not None else None
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def __call__(self, fields: Mapping[str, Any]) -> EventMeta:
        """The entry's position (day, pos, time, producer_ns); ValueError naming the first bad field."""
        self._check_lengths(fields)
        meta = parse_meta(fields)
        keys = tuple(fields)
        plan = self._plans.get(keys)
        if plan is None:
            if len(self._plans) >= _MAX_PLANS:  # entries of ever new layouts: keep the memory bounded
                self._plans.clear()
            plan = self._plans[keys] = _Plan(keys)
        if self.levels is not None and plan.levels != self._depth:
            self._depth_error(plan)
        x = self._values(fields, plan)
        bad = _first_bad_nb(x, *plan.args)
        if bad >= 0:
            raise ValueError(f"{plan.names[bad]}: expected {plan.what[bad]}, got {fields[plan.names[bad]]!r}")
        return meta

    @staticmethod
    def _check_lengths(fields: Mapping[str, Any]) -> None:
        try:
            if max(map(len, fields.values()), default=0) <= MAX_CHARS:  # str values, as Redis gives them: fast
                return
        except TypeError:  # numbers among the values
            pass
        for name, value in fields.items():
            if isinstance(value, str | bytes) and len(value) > MAX_CHARS:
                raise ValueError(f"{name}: expected at most {MAX_CHARS} characters, got {len(value)} characters")

    def _depth_error(self, plan: _Plan) -> None:
        found = f"{max(plan.levels)} level(s)" if plan.levels else "no book levels"
        raise ValueError(f"ask_price_*: expected the book's {self.levels} level(s) (the model's depth), got {found} "
                         "(data of another depth)")  # fmt: skip

    @staticmethod
    def _values(fields: Mapping[str, Any], plan: _Plan) -> np.ndarray:
        try:
            return np.array([float(fields[k]) for k in plan.names])
        except (TypeError, ValueError):
            pass
        for k in plan.names:
            try:
                float(fields[k])
            except (TypeError, ValueError):
                raise ValueError(f"{k}: expected a number, got {fields[k]!r}") from None
        raise AssertionError("unreachable")  # pragma: no cover
