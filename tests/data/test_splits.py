from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from signalbench.data.splits import purged_kfold, train_val_test_split, usable_rows, walk_forward


def _spans(rows, horizon, seq_len):
    """Every row's input window [t - seq_len + 1, t] and label window [t, t + horizon], as one span."""
    return rows - seq_len + 1, rows + horizon


def assert_no_overlap(train, test, horizon, seq_len, gap=None):
    """No training row's input or label window shares a row with a test row's input or label window."""
    assert train.size and test.size
    tr_lo, tr_hi = _spans(train, horizon, seq_len)
    te_lo, te_hi = _spans(test, horizon, seq_len)
    # brute force on all pairs: intervals [a, b] and [c, d] overlap iff a <= d and c <= b
    overlap = (tr_lo[:, None] <= te_hi[None, :]) & (te_lo[None, :] <= tr_hi[:, None])
    assert not overlap.any()
    # and the gap: rows strictly between any train and any test row
    dist = np.abs(train[:, None] - test[None, :]).min()
    assert dist - 1 >= (horizon + seq_len if gap is None else gap)
    assert np.intersect1d(train, test).size == 0


def assert_usable(rows, n, horizon, seq_len):
    assert np.all(rows - seq_len + 1 >= 0) and np.all(rows + horizon <= n - 1)
    assert np.all(np.diff(rows) > 0) and rows.dtype == np.int64


sizes = dict(n=st.integers(1, 400), horizon=st.integers(0, 20), seq_len=st.integers(1, 30))


@given(**sizes, val=st.sampled_from([0.0, 0.1, 0.2]), test=st.sampled_from([0.1, 0.25]))
def test_train_val_test_split_is_purged(n, horizon, seq_len, val, test):
    try:
        tr, va, te = train_val_test_split(n, horizon=horizon, seq_len=seq_len, val_size=val, test_size=test)
    except ValueError as exc:
        assert "too few rows" in str(exc)
        assume(False)
    for part in (tr, va, te):
        if part.size:
            assert_usable(part, n, horizon, seq_len)
    assert tr.max() < te.min()
    assert_no_overlap(tr, te, horizon, seq_len)
    if val:
        assert tr.max() < va.min() and va.max() < te.min()
        assert_no_overlap(tr, va, horizon, seq_len)
        assert_no_overlap(va, te, horizon, seq_len)
    else:
        assert va.size == 0


@given(**sizes, k=st.integers(1, 6), rolling=st.booleans())
def test_walk_forward_is_purged_and_moves_forward(n, horizon, seq_len, k, rolling):
    try:
        folds = walk_forward(n, horizon=horizon, seq_len=seq_len, n_folds=k, train_size=20 if rolling else None)
    except ValueError as exc:
        assert "too few rows" in str(exc)
        assume(False)
    assert len(folds) == k
    for i, (tr, te) in enumerate(folds):
        assert_usable(tr, n, horizon, seq_len)
        assert_usable(te, n, horizon, seq_len)
        assert tr.max() < te.min()
        assert_no_overlap(tr, te, horizon, seq_len)
        if rolling:
            assert tr.size <= 20
        if i:
            assert te.min() > folds[i - 1][1].max()
            if not rolling:
                assert tr.size >= folds[i - 1][0].size


@given(**sizes, k=st.integers(2, 6), embargo=st.integers(0, 15))
def test_purged_kfold_is_purged_with_embargo(n, horizon, seq_len, k, embargo):
    try:
        folds = purged_kfold(n, horizon=horizon, seq_len=seq_len, n_folds=k, embargo=embargo)
    except ValueError as exc:
        assert "too few rows" in str(exc)
        assume(False)
    usable = usable_rows(n, horizon=horizon, seq_len=seq_len)
    np.testing.assert_array_equal(np.sort(np.concatenate([te for _, te in folds])), usable)
    for tr, te in folds:
        assert_usable(tr, n, horizon, seq_len)
        assert np.all(np.diff(te) == 1)  # contiguous test block
        assert_no_overlap(tr, te, horizon, seq_len)
        after = tr[tr > te.max()]
        if after.size:
            assert after.min() - te.max() - 1 >= horizon + seq_len + embargo


@given(days=st.lists(st.integers(5, 60), min_size=1, max_size=5), horizon=st.integers(0, 5),
       seq_len=st.integers(1, 8))
def test_usable_rows_never_cross_a_day(days, horizon, seq_len):
    groups = np.repeat(np.arange(len(days)), days)
    rows = usable_rows(groups.size, horizon=horizon, seq_len=seq_len, groups=groups)
    assert np.all(groups[rows - seq_len + 1] == groups[rows])
    assert np.all(groups[rows + horizon] == groups[rows])
    assert rows.size == sum(max(0, d - seq_len + 1 - horizon) for d in days)


def test_split_with_days_and_exact_values():
    tr, va, te = train_val_test_split(100, horizon=2, seq_len=3, val_size=0.2, test_size=0.2)
    # usable rows 2..97 (96 rows): test = last 19, val = 19 before, purged by 5 rows from each earlier part
    assert te[0] == 79 and te[-1] == 97
    assert va[0] == 60 and va[-1] == 73  # 79 - 5 - 1
    assert tr[0] == 2 and tr[-1] == 54  # 60 - 5 - 1
    groups = np.repeat([0, 1], 50)
    tr, va, te = train_val_test_split(100, horizon=2, seq_len=3, groups=groups)
    for part in (tr, va, te):
        assert not np.isin(part, [48, 49, 50, 51]).any()


def test_too_few_rows_and_bad_arguments():
    with pytest.raises(ValueError, match="too few rows.*n=30 with horizon=10, seq_len=10"):
        train_val_test_split(30, horizon=10, seq_len=10)
    with pytest.raises(ValueError, match="too few rows"):
        walk_forward(50, horizon=10, seq_len=10, n_folds=5)
    with pytest.raises(ValueError, match="too few rows"):
        purged_kfold(40, horizon=10, seq_len=10, n_folds=2)
    with pytest.raises(ValueError, match="gap=5 is too small"):
        train_val_test_split(1000, horizon=10, seq_len=10, gap=5)
    with pytest.raises(ValueError, match="horizon"):
        walk_forward(100, horizon=-1, seq_len=3)
    with pytest.raises(ValueError, match="n_folds"):
        purged_kfold(100, horizon=1, seq_len=3, n_folds=1)
    with pytest.raises(ValueError, match="val_size \\+ test_size"):
        train_val_test_split(100, horizon=1, seq_len=1, val_size=0.5, test_size=0.5)
