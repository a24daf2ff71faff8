"""Which pieces take which part in each fold of a multi-piece run, and a piece's rows in that part.

A :class:`Member` is one piece's part in one fold. With a day split (``kind = "days" | "walk_forward_days"``) a piece
is wholly ``"train"``, ``"val"`` or ``"test"`` (its usable rows; the purge is the day boundary). With a row split
(``holdout`` / ``walk_forward``) every piece is ``"rows"`` in every fold: the fold is cut inside the piece by
:func:`signalbench.experiment.folds.make_folds`, and the training rows of all pieces are pooled. :func:`piece_fold`
gives a member's :class:`~signalbench.experiment.folds.Fold` in the piece's own row positions; it needs only the piece's
row count, so the graph's tasks compute it where the piece is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from signalbench.experiment.config import Labels, Split
from signalbench.experiment.dayfolds import day_folds
from signalbench.experiment.folds import Fold, make_folds

__all__ = ["Member", "fold_members", "piece_fold", "pool_groups"]


@dataclass(frozen=True)
class Member:
    """Piece ``piece`` (an index into the run's pieces) takes the part ``role`` in fold ``fold`` (0-based)."""

    piece: int
    fold: int
    role: str  # "train" | "val" | "test" | "rows"

    def params(self) -> dict[str, Any]:
        """What a task needs to find this member's rows (JSON-able)."""
        return {"fold": self.fold, "role": self.role}


def fold_members(split: Split, days: list[str]) -> list[list[Member]]:
    """Per fold, every member (``days``: each piece's ISO day, in the run's piece order)."""
    if not split.by_day:
        n_folds = 1 if split.kind == "holdout" else split.n_folds
        return [[Member(i, k, "rows") for i in range(len(days))] for k in range(n_folds)]
    folds = []
    for k, fold in enumerate(day_folds(split, days)):
        role = {
            **dict.fromkeys(fold.train, "train"),
            **dict.fromkeys(fold.val, "val"),
            **dict.fromkeys(fold.test, "test"),
        }
        folds.append([Member(i, k, role[d]) for i, d in enumerate(days) if d in role])
    return folds


def pool_groups(split: Split, symbols: list[str]) -> dict[str, list[int]]:
    """The pool groups of a run: one per symbol (``pool = "symbol"``) or one of every piece (``"all"``)."""
    if split.pool == "all":
        return {"all": list(range(len(symbols)))}
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(symbols):
        groups.setdefault(s, []).append(i)
    return groups


def piece_fold(labels: dict[str, Any], split: dict[str, Any], member: dict[str, Any], n: int, longest: int) -> Fold:
    """The rows (of the piece's own ``n`` rows) a member trains, validates or tests on, and the span it trades.

    ``labels`` and ``split`` are the config sections (dumped); ``longest`` the longest window of the run's models.
    """
    from signalbench.data.splits import usable_rows

    role, k = member["role"], int(member["fold"])
    exp = SimpleNamespace(labels=Labels(**labels), split=Split(**split))
    if role == "rows":
        folds, _ = make_folds(exp, n, longest, None)
        return folds[k]
    rows = usable_rows(n, horizon=exp.labels.horizon, seq_len=longest)
    if rows.size == 0:
        raise ValueError(
            f"piece: expected rows with a complete window of {longest} and a label {exp.labels.horizon} rows ahead, "
            f"got {n} row(s) in all"
        )
    none = np.zeros(0, dtype=np.int64)
    if role == "train":
        return Fold(rows, none, none, n, n)
    if role == "val":
        return Fold(none, rows, none, n, n)
    return Fold(none, none, rows, int(rows[0]), n)
