"""The shared checks of signalbench._validation: the exception rule (TypeError for a wrong kind, ValueError for a
wrong value) and the one message form, on the argument kinds every stage receives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench import _validation as v


@given(st.one_of(st.floats(allow_nan=False), st.text(max_size=3), st.booleans(), st.none()))
def test_integer_rejects_every_other_kind_with_type_error(value):
    if isinstance(value, float) and value.is_integer():
        value = value + 0.5 if abs(value) < 1e15 else 0.5
    with pytest.raises(TypeError, match=r"^n: expected an integer"):
        v.integer(value, "n")


@given(st.integers(min_value=2**62 + 1, max_value=2**80))
def test_huge_integers_are_value_errors_not_overflow(value):
    with pytest.raises(ValueError, match="at most 2\\*\\*62"):
        v.integer(value, "horizon", minimum=1)


@pytest.mark.parametrize("value", ["no", "True", 1, 0, None, 1.0])
def test_boolean_takes_only_bools(value):
    with pytest.raises(TypeError, match=r"^close_at_end: expected True or False, got"):
        v.boolean(value, "close_at_end")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_number_out_of_range_is_a_value_error(value):
    with pytest.raises(ValueError, match=r"^fee_bps: expected a finite number >= 0, got"):
        v.number(value, "fee_bps", low=0.0)


def test_choice_did_you_mean_and_wrong_kinds():
    with pytest.raises(ValueError, match="did you mean 'lstm'"):
        v.choice("lstn", "model", ["lstm", "transformer"])
    with pytest.raises(TypeError):
        v.choice(3, "model", ["lstm"])
    with pytest.raises(TypeError):
        v.choice(np.array(["lstm"]), "model", ["lstm"])  # no NumPy truth-value error


@pytest.mark.parametrize(
    "value",
    [
        pd.Series(pd.date_range("2024-01-01", periods=3)),
        pd.Series(pd.to_timedelta([1, 2, 3], unit="s")),
        pd.Series(["1", "2", "n/a"]),
        pd.Series([1, 2, 3], dtype="category"),
        np.array(["1.0", "2.0"]),
        np.array([1, "n/a"], dtype=object),
    ],
)
def test_numbers_only(value):
    with pytest.raises(TypeError, match=r"^x: expected numbers, got"):
        v.numeric_array(value, "x")


def test_object_column_names_the_row():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, "n/a", 2.0]}, index=pd.date_range("2024", periods=3))
    with pytest.raises(TypeError, match=r"got 'n/a' at row 1 \(2024-01-02 00:00:00\), column 'b'"):
        v.numeric_array(frame, "X")


def test_wide_numeric_frame_converts_exactly():
    frame = pd.DataFrame(np.arange(12.0).reshape(3, 4), columns=list("abcd")).astype({"a": "int64"})
    arr, index, columns = v.numeric_array(frame, "X")
    np.testing.assert_array_equal(arr, np.arange(12.0).reshape(3, 4))
    assert list(columns) == list("abcd")


def test_mixed_utc_offsets_are_named_readably():
    index = pd.Index(
        [pd.Timestamp("2024-01-01 10:00", tz="America/New_York"), pd.Timestamp("2024-01-01 16:00", tz="Europe/Paris")],
        dtype=object,
    )
    with pytest.raises(ValueError, match=r"mixed UTC offsets \['\+01:00', '-05:00'\]"):
        v.time_index(index, "price")


@given(st.permutations(list(range(8))))
def test_unsorted_time_is_named_at_its_first_row(order):
    index = pd.date_range("2024-01-01", periods=8)[list(order)]
    if index.is_monotonic_increasing:
        v.check_sorted_index(index, "price")
        return
    first = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
    with pytest.raises(ValueError, match=rf"at row {first};"):
        v.check_sorted_index(index, "price")


def test_name_list():
    assert v.name_list("a", "features") == ["a"]
    with pytest.raises(TypeError, match=r"features: expected a name \(str\) or a list of names, got 3"):
        v.name_list(3, "features")
    with pytest.raises(TypeError, match=r"features\[1\]"):
        v.name_list(["a", 3], "features")
