"""The folds of an experiment: training, validation and tested rows, purged, and the span each fold predicts.

The purge gap between parts is never configured: it is ``horizon + seq_len`` rows, with ``seq_len`` the longest window
of any model, so no training label window reaches a validation or tested row and no window straddles two parts.
A holdout split is one fold. Walk-forward folds test consecutive blocks; each refits on every usable row before its
block (less the gap) and keeps the last ``val`` share of them, after another gap, as its own validation tail for
early stopping and strategy tuning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signalbench.experiment.config import Experiment

__all__ = ["Fold", "make_folds", "validation_tail"]


@dataclass(frozen=True)
class Fold:
    """One fold's rows (int64 positions into the data) and the contiguous span ``[start, stop)`` it trades.

    ``test`` holds the labelled tested rows (classification metrics); the fold's model predicts every row of
    ``[start, stop)`` (positions, trading), which also covers rows inside the span that carry no label (e.g. the
    last ``horizon`` rows of a day).
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    start: int
    stop: int


def validation_tail(train: np.ndarray, share: float, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training rows into (train, validation tail) with ``gap`` rows strictly between them.

    The tail is the last ``share`` of the rows (at least one); the rows kept for training end more than ``gap`` rows
    before it (possibly none: the caller says what that means).
    """
    n_val = max(1, int(round(share * train.size)))
    val = train[train.size - n_val :]
    head = train[train < val[0] - gap]
    return head, val


def make_folds(exp: Experiment, n: int, seq_len: int, groups: np.ndarray | None) -> tuple[list[Fold], int]:
    """The folds of ``exp`` for ``n`` rows and the longest window ``seq_len``; also returns the purge gap.

    Raises
    ------
    ValueError
        When a part would be empty after purging (the message says how many rows each part has and needs).
    """
    from signalbench.data.splits import train_val_test_split, usable_rows, walk_forward_splits

    horizon = exp.labels.horizon
    gap = horizon + seq_len
    sp = exp.split
    if sp.kind == "holdout":
        total = sp.train + sp.val + sp.test
        parts = train_val_test_split(
            n, horizon=horizon, seq_len=seq_len, val_size=sp.val / total, test_size=sp.test / total, groups=groups
        )
        train = parts.train
        if total < 1.0 - 1e-9:  # the first (1 - total) share of the usable rows is not used
            m = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=groups).size
            train = train[max(0, train.size - int(round(sp.train * m))) :]
        folds = [Fold(train, parts.val, parts.test, int(parts.test[0]), n)]
        return folds, gap
    m = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=groups).size
    block = max(1, int(m * sp.test) // sp.n_folds)
    pairs = walk_forward_splits(n, horizon=horizon, seq_len=seq_len, n_folds=sp.n_folds, test_size=block, groups=groups)
    folds = []
    for i, (train, test) in enumerate(pairs):
        head, val = validation_tail(train, sp.val / (sp.train + sp.val), gap)
        if head.size < 2:
            raise ValueError(
                f"split: walk-forward fold {i} has {head.size} training row(s) left after keeping a validation tail "
                f"of {val.size} rows and a purge gap of {gap}; use fewer folds, a smaller val share or more data"
            )
        stop = int(pairs[i + 1][1][0]) if i + 1 < len(pairs) else n
        folds.append(Fold(head, val, test, int(test[0]), stop))
    return folds, gap
