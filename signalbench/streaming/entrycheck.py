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

Fields it does not know are checked for length only. The checks are vectorized over the fields (the plan of an
entry layout is built once and cached), so a 10-level event costs a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from signalbench.streaming.codec import EventMeta, parse_meta

__all__ = ["MAX_CHARS", "MAX_PRICE", "MAX_SIZE", "EntryCheck"]

#: The longest field value accepted (a float's ``repr`` takes at most 24 characters).
MAX_CHARS = 64
#: Prices are below this many dollars.
MAX_PRICE = 1e9
#: Sizes are at most this many shares (2**53: every integer below it is exact in float64).
MAX_SIZE = float(2**53)

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
    "price": (_TINY, _PRICE[1], False, True, f"a finite price > 0 and < {MAX_PRICE:g} dollars (nan only on a "
              "type-7 halt row)"),  # fmt: skip
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


class _Plan:
    """The checks of one entry layout (its field names, in order), as arrays over its numeric fields."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        known = [(k, _rule(k)) for k in keys]
        known = [(k, r) for k, r in known if r is not None]
        self.names = tuple(k for k, _ in known)
        self.low = np.array([r[0] for _, r in known])
        self.high = np.array([r[1] for _, r in known])
        self.integer = np.flatnonzero([r[2] for _, r in known])
        self.nan_ok = np.array([r[3] for _, r in known], dtype=bool)
        self.what = tuple(r[4] for _, r in known)
        index = {k: j for j, k in enumerate(self.names)}
        self.direction = index.get("direction")
        self.price, self.type = index.get("price"), index.get("type")
        pairs = [(index[k], index[k.replace("_price_", "_size_")]) for k in self.names
                 if _BOOK.match(k) and "_price_" in k and k.replace("_price_", "_size_") in index]  # fmt: skip
        self.pair_price = np.array([p for p, _ in pairs], dtype=np.intp)
        self.pair_size = np.array([s for _, s in pairs], dtype=np.intp)
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
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def __call__(self, fields: Mapping[str, Any]) -> EventMeta:
        """The entry's position (day, pos, time, producer_ns); ValueError naming the first bad field."""
        for name, value in fields.items():
            if isinstance(value, str | bytes) and len(value) > MAX_CHARS:
                raise ValueError(f"{name}: expected at most {MAX_CHARS} characters, got {len(value)} characters")
        meta = parse_meta(fields)
        keys = tuple(fields)
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plans[keys] = _Plan(keys)
        self._check_depth(plan)
        x = self._values(fields, plan)
        bad = self._first_bad(x, plan)
        if bad is not None:
            raise ValueError(f"{plan.names[bad]}: expected {plan.what[bad]}, got {fields[plan.names[bad]]!r}")
        return meta

    def _check_depth(self, plan: _Plan) -> None:
        if self.levels is None or plan.levels == set(range(1, self.levels + 1)):
            return
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

    @staticmethod
    def _first_bad(x: np.ndarray, plan: _Plan) -> int | None:
        nan = np.isnan(x)
        ok = (x >= plan.low) & (x <= plan.high) | (nan & plan.nan_ok)
        ok[plan.integer] &= x[plan.integer] == np.round(x[plan.integer])
        if plan.direction is not None:
            ok[plan.direction] &= x[plan.direction] != 0.0
        if plan.price is not None and nan[plan.price]:
            ok[plan.price] = plan.type is not None and x[plan.type] == 7.0
        paired = nan[plan.pair_price] == nan[plan.pair_size]  # else blame the one that is nan
        ok[plan.pair_price] &= paired | ~nan[plan.pair_price]
        ok[plan.pair_size] &= paired | ~nan[plan.pair_size]
        if ok.all():
            return None
        return int(np.flatnonzero(~ok)[0])
