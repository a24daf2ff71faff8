from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from signalbench.data.splits import (
    purged_kfold,
    train_val_test_split,
    usable_rows,
    walk_forward_splits,
    with_context,
)
from signalbench.data.windowing import windows


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


@given(**sizes, val=st.one_of(st.just(0.0), st.floats(0.01, 0.45)), test=st.floats(0.01, 0.45))
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
def test_walk_forward_splits_are_purged_and_move_forward(n, horizon, seq_len, k, rolling):
    try:
        folds = walk_forward_splits(n, horizon=horizon, seq_len=seq_len, n_folds=k, train_size=20 if rolling else None)
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


@given(days=st.lists(st.integers(5, 60), min_size=1, max_size=5), horizon=st.integers(0, 5), seq_len=st.integers(1, 8))
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
    with pytest.raises(
        ValueError,
        match="n: expected enough rows for a train/val/test split, got too few rows: n=30 with horizon=10, seq_len=10",
    ):
        train_val_test_split(30, horizon=10, seq_len=10)
    with pytest.raises(ValueError, match="too few rows"):
        walk_forward_splits(50, horizon=10, seq_len=10, n_folds=5)
    with pytest.raises(ValueError, match="too few rows"):
        purged_kfold(40, horizon=10, seq_len=10, n_folds=2)
    with pytest.raises(ValueError, match="gap: expected at least horizon \\+ seq_len = 10 \\+ 10 = 20 rows .* got 5"):
        train_val_test_split(1000, horizon=10, seq_len=10, gap=5)
    with pytest.raises(ValueError, match="horizon: expected an integer >= 0, got -1"):
        walk_forward_splits(100, horizon=-1, seq_len=3)
    with pytest.raises(ValueError, match="n_folds: expected an integer >= 2, got 1"):
        purged_kfold(100, horizon=1, seq_len=3, n_folds=1)
    with pytest.raises(ValueError, match="val_size \\+ test_size: expected a sum < 1"):
        train_val_test_split(100, horizon=1, seq_len=1, val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match=r"test_size: expected a finite number in \(0, 1\), got 0.0"):
        train_val_test_split(100, horizon=1, seq_len=1, test_size=0.0)
    with pytest.raises(ValueError, match="horizon: expected an integer >= 0 and at most 2\\*\\*62"):
        usable_rows(100, horizon=10**20, seq_len=1)  # a clear error, not an OverflowError


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: train_val_test_split(100.0, horizon=1, seq_len=1), "n: expected an integer >= 0, got 100.0"),
        (lambda: train_val_test_split(100, horizon=1, seq_len="5"), "seq_len: expected an integer >= 1"),
        (lambda: train_val_test_split(100, horizon=1, seq_len=1, val_size="0.1"), "val_size: expected a finite"),
        (lambda: walk_forward_splits(100, horizon=1, seq_len=1, n_folds=2.0), "n_folds: expected an integer"),
        (lambda: walk_forward_splits(100, horizon=1, seq_len=1, train_size=True), "train_size: expected an integer"),
        (lambda: purged_kfold(100, horizon=1, seq_len=1, embargo=None), "embargo: expected an integer >= 0"),
        (lambda: usable_rows(10, horizon=1, seq_len=1, groups=5), "groups: expected one label per row"),
    ],
)
def test_a_wrong_kind_is_a_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


# ------------------------------------------------------------------------------------------------------------------
# with_context: a split part plus the seq_len - 1 rows before it, labels NaN outside the part
# ------------------------------------------------------------------------------------------------------------------


@given(
    n=st.integers(20, 200),
    horizon=st.integers(0, 5),
    seq_len=st.integers(1, 12),
    F=st.integers(1, 3),
    part=st.sampled_from(["train", "val", "test"]),
    days=st.integers(1, 3),
)
def test_every_part_row_gets_its_full_window_and_no_label_outside(n, horizon, seq_len, F, part, days):
    groups = np.repeat(np.arange(days), -(-n // days))[:n]
    try:
        split = train_val_test_split(n, horizon=horizon, seq_len=seq_len, val_size=0.2, test_size=0.2, groups=groups)
    except ValueError as exc:
        assert "too few rows" in str(exc)
        assume(False)
    rows = getattr(split, part)
    X = np.random.default_rng(n).normal(size=(n, F))
    y = np.arange(n, dtype=np.float64)  # label of row t is t: where each label came from is visible
    ctx = with_context(X, y, rows, seq_len)
    assert ctx.start == rows[0] - seq_len + 1 and ctx.X.shape == (rows[-1] + 1 - ctx.start, F)
    assert np.shares_memory(ctx.X, X)  # a view, not a copy
    np.testing.assert_array_equal(np.flatnonzero(ctx.mask) + ctx.start, rows)
    # labels: the part's own, NaN everywhere else (context rows included)
    np.testing.assert_array_equal(ctx.y[ctx.mask], rows.astype(float))
    assert np.isnan(ctx.y[~ctx.mask]).all()
    # what a sequence model does with it: window k of the context ends at local row k + seq_len - 1
    W = windows(ctx.X, seq_len)
    local = np.flatnonzero(ctx.mask)
    assert local.min() >= seq_len - 1  # every part row has a complete window inside the context
    for r in local[:: max(1, local.size // 7)]:
        np.testing.assert_array_equal(W[r - seq_len + 1], X[ctx.start + r - seq_len + 1 : ctx.start + r + 1])
    # and the model trains on exactly the part's rows: those with a finite label
    trained = local[np.isfinite(ctx.y[local])]
    np.testing.assert_array_equal(trained + ctx.start, rows)


def test_with_context_keeps_pandas_and_two_column_labels():
    idx = pd.date_range("2024-01-02 09:30", periods=50, freq="s")
    X = pd.DataFrame({"a": np.arange(50.0), "b": -np.arange(50.0)}, index=idx)
    y = pd.DataFrame({"cls": np.arange(50) % 3, "aux": np.arange(50.0) / 10}, index=idx)
    rows = np.arange(30, 40)
    ctx = with_context(X, y, rows, 5)
    assert ctx.start == 26
    pd.testing.assert_frame_equal(ctx.X, X.iloc[26:40])
    assert isinstance(ctx.y, pd.DataFrame) and ctx.y.index.equals(idx[26:40])
    assert (ctx.y.dtypes == np.float64).all()
    assert ctx.y.iloc[:4].isna().all().all() and ctx.y.iloc[4:].notna().all().all()
    series = with_context(X, y["cls"], rows, 5).y
    assert isinstance(series, pd.Series) and series.name == "cls"
    np.testing.assert_array_equal(series.iloc[4:], np.arange(30, 40) % 3)


def test_with_context_errors():
    X, y = np.zeros((20, 2)), np.zeros(20)
    with pytest.raises(ValueError, match=r"rows: expected a first row >= seq_len - 1 = 4 .* got 2"):
        with_context(X, y, [2, 3], 5)
    with pytest.raises(ValueError, match="y: expected one label per row of X"):
        with_context(X, y[:-1], [10], 5)
    with pytest.raises(ValueError, match=r"rows: expected row positions in \[0, 20\)"):
        with_context(X, y, [10, 20], 5)
    with pytest.raises(TypeError, match="seq_len: expected an integer >= 1"):
        with_context(X, y, [10], 5.0)
    with pytest.raises(TypeError, match="X: expected an array, Series or DataFrame"):
        with_context(None, y, [10], 5)
    with pytest.raises(TypeError, match="y: expected numbers, got datetimes"):
        with_context(X, pd.Series(pd.date_range("2024-01-01", periods=20)), [10], 5)


def test_a_real_model_fit_on_the_context_equals_the_model_fit_with_masked_labels():
    """Fitting on with_context(part) is fitting on that part and nothing else, with every row's window intact."""
    from signalbench.signals import create as create_model

    rng = np.random.default_rng(0)
    n, seq_len = 400, 6
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + np.r_[0.0, X[:-1, 1]] > 0).astype(float) * 2  # classes 0 and 2, from the last two rows
    split = train_val_test_split(n, horizon=1, seq_len=seq_len, val_size=0.2, test_size=0.2)

    def model():
        return create_model(
            "lstm",
            seq_len=seq_len,
            hidden_size=4,
            num_layers=1,
            bidirectional=False,
            pooling="last",
            head_size=0,
            epochs=2,
            batch_size=64,
            device="cpu",
            progress=False,
        )

    train = with_context(X, y, split.train, seq_len)
    masked = np.full(n, np.nan)
    masked[split.train] = y[split.train]
    a = model().fit(train.X, train.y)
    b = model().fit(X[: split.train[-1] + 1], masked[: split.train[-1] + 1])
    test = with_context(X, y, split.test, seq_len)
    pa, pb = a.predict_proba(test.X), b.predict_proba(test.X)
    np.testing.assert_allclose(pa, pb, rtol=1e-6, atol=1e-7)
    assert np.isfinite(pa[test.mask]).all()  # every test row has a prediction: none of the part is lost
    # passing the part alone loses its first seq_len - 1 rows, the failure this helper exists to prevent
    alone = a.predict_proba(X[split.test])
    assert np.isnan(alone[: seq_len - 1]).all()
