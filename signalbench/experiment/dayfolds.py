"""Folds of whole days: ``[split] kind = "days" | "walk_forward_days"`` over the calendar of a multi-piece run.

A day fold names the calendar days that train, validate and test; they are the same days for every symbol. A piece
(one symbol, one day) belongs wholly to one part of a fold, so the purge between parts is a whole day boundary: no
window and no label crosses a piece (features, labels and windows are computed per piece). :func:`day_field_problems`
checks the ``[split]`` fields when the config is read; :func:`day_folds` cuts the folds on the days the data has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["DayFold", "day_field_problems", "day_folds"]

_DAY_FIELDS = ("train_days", "val_days", "test_days", "step", "rolling")
_FRACTIONS = ("train", "val", "test", "n_folds")


@dataclass(frozen=True)
class DayFold:
    """The ISO days of one fold's training, validation and tested pieces (sorted, disjoint, in that order)."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]


def _iso(v: str) -> bool:
    try:
        return dt.date.fromisoformat(v).isoformat() == v
    except ValueError:
        return False


def _days_problem(name: str, v: Any, minimum: int, lists: bool) -> str | None:
    if v is None or isinstance(v, int):
        if v is not None and v < minimum:
            return f"{name}: expected a count >= {minimum}, got {v}"
        return None
    if not lists:
        return f"{name}: expected a count of days with kind = 'walk_forward_days', got a list; use kind = 'days'"
    bad = [d for d in v if not _iso(d)]
    if bad:
        return f"{name}: expected ISO dates (YYYY-MM-DD), got {bad[0]!r}"
    if list(v) != sorted(set(v)) or len(v) < max(1, minimum):
        return f"{name}: expected {max(1, minimum)}+ distinct ISO dates in time order, got {list(v)}"
    return None


def day_field_problems(split: Any) -> list[str]:
    """Problems of the day fields of a ``[split]`` (used by its validator); empty when they are consistent."""
    fields = type(split).model_fields
    given = {f for f in split.model_fields_set if getattr(split, f) != fields[f].default}  # a dumped config sets all
    if not split.by_day:
        wrong = [f for f in _DAY_FIELDS if f in given]
        if wrong:
            return [f"{', '.join(wrong)}: only with kind = 'days' or 'walk_forward_days', got kind = {split.kind!r}"]
        return []
    problems = []
    wrong = [f for f in _FRACTIONS if f in given]
    if wrong:
        problems.append(
            f"{', '.join(wrong)}: fractions of rows, not used with kind = {split.kind!r}; "
            "give train_days, val_days, test_days"
        )
    lists = split.kind == "days"
    for name, minimum in (("train_days", 1), ("val_days", 0), ("test_days", 1)):
        found = _days_problem(name, getattr(split, name), minimum, lists)
        if found:
            problems.append(found)
    if split.train_days is None:
        problems.append("train_days: required key is missing (a count of days, or a list of ISO dates)")
    if lists and split.test_days is None:
        problems.append("test_days: required key is missing (a count of days, or a list of ISO dates)")
    if lists and [f for f in ("step", "rolling") if f in given]:
        problems.append("step, rolling: only with kind = 'walk_forward_days'")
    if lists and not problems:
        problems += _order_problems(split)
    return problems


def _order_problems(split: Any) -> list[str]:
    """Dates given as lists: training days before validation days before tested days."""
    parts = [(n, getattr(split, n)) for n in ("train_days", "val_days", "test_days")]
    dated = [(n, v) for n, v in parts if isinstance(v, list) and v]
    for (a, va), (b, vb) in zip(dated, dated[1:]):
        if va[-1] >= vb[0]:
            return [f"{b}: expected days after every day of {a} (last {va[-1]}), got {vb[0]}"]
    return []


def _named(days: list[str], part: str, value: list[str]) -> tuple[str, ...]:
    missing = [d for d in value if d not in days]
    if missing:
        raise ValueError(f"split.{part}: expected days the data has ({_found(days)}), got {missing[0]!r}")
    return tuple(value)


def _found(days: list[str]) -> str:
    if len(days) <= 6:
        return f"{len(days)} day(s): {', '.join(days)}"
    return f"{len(days)} days: {', '.join(days[:3])} .. {', '.join(days[-2:])}"


def _fixed(split: Any, days: list[str]) -> list[DayFold]:
    """``kind = "days"``: one fold; counts are taken in time order from the first day."""
    parts = {}
    pos = 0
    for part in ("train_days", "val_days", "test_days"):
        value = getattr(split, part) or 0
        if isinstance(value, list):
            parts[part] = _named(days, part, value)
            continue
        parts[part] = tuple(days[pos : pos + value])
        if len(parts[part]) < value:
            asked = f"{split.train_days} + {split.val_days or 0} + {split.test_days} days"
            raise ValueError(f"split.{part}: expected {asked} in the data, got {_found(days)}; ask for fewer days")
        pos += value
    return [DayFold(parts["train_days"], parts["val_days"], parts["test_days"])]


def _walk_forward(split: Any, days: list[str]) -> list[DayFold]:
    k, v, step = int(split.train_days), int(split.val_days or 0), int(split.step)
    first_test = k + v
    if split.test_days is not None:
        first_test = max(first_test, len(days) - int(split.test_days))
    if first_test >= len(days) or len(days) - (k + v) < int(split.test_days or 1):
        want = f"{k} training + {v} validation day(s) and at least {int(split.test_days or 1)} tested day(s)"
        raise ValueError(f"split.train_days: expected {want}, got {_found(days)}; ask for fewer days")
    folds = []
    for t0 in range(first_test, len(days), step):
        train_end = t0 - v
        train0 = max(0, train_end - k) if split.rolling else 0
        folds.append(DayFold(tuple(days[train0:train_end]), tuple(days[train_end:t0]), tuple(days[t0 : t0 + step])))
    return folds


def day_folds(split: Any, days: list[str]) -> list[DayFold]:
    """The day folds of ``split`` over the sorted ISO ``days`` of the data.

    Raises
    ------
    ValueError
        When the data has fewer days than asked for, or a listed day is not among them (the days found are named).
    """
    days = sorted(set(days))
    if split.kind == "days":
        return _fixed(split, days)
    return _walk_forward(split, days)
