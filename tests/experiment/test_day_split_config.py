"""``[split] kind = "days" | "walk_forward_days"``, ``pool`` and ``[compute]``: checked with their locations."""

from __future__ import annotations

import pytest

from signalbench.experiment.config import ConfigError, parse_experiment
from signalbench.experiment.dayfolds import day_folds

BASE = {"name": "x", "data": {"kind": "synthetic", "n": 400}}
DAYS = [f"2020-01-{d:02d}" for d in (2, 3, 6, 7, 8, 9, 10)]


def _split(**split):
    return parse_experiment({**BASE, "split": split}).split


def _problems(**raw) -> str:
    with pytest.raises(ConfigError) as info:
        parse_experiment({**BASE, **raw})
    return str(info.value)


def test_days_counts_take_days_in_time_order():
    (fold,) = day_folds(_split(kind="days", train_days=3, val_days=1, test_days=2), DAYS)
    assert fold.train == ("2020-01-02", "2020-01-03", "2020-01-06")
    assert fold.val == ("2020-01-07",)
    assert fold.test == ("2020-01-08", "2020-01-09")


def test_days_lists_name_the_days():
    split = _split(kind="days", train_days=["2020-01-02", "2020-01-06"], val_days=0, test_days=["2020-01-10"])
    (fold,) = day_folds(split, DAYS)
    assert fold == type(fold)(("2020-01-02", "2020-01-06"), (), ("2020-01-10",))


def test_walk_forward_days_expanding_and_rolling():
    grow = day_folds(_split(kind="walk_forward_days", train_days=2, val_days=1, step=2), DAYS)
    assert [f.test for f in grow] == [("2020-01-07", "2020-01-08"), ("2020-01-09", "2020-01-10")]
    assert grow[1].train == ("2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07")  # every day before val
    assert grow[1].val == ("2020-01-08",)
    roll = day_folds(_split(kind="walk_forward_days", train_days=2, val_days=1, step=2, rolling=True), DAYS)
    assert roll[1].train == ("2020-01-06", "2020-01-07")  # the last 2 days before the validation day
    for f in grow + roll:  # no day in two parts of a fold
        assert not (set(f.train) & set(f.val)) and not (set(f.val) | set(f.train)) & set(f.test)


def test_walk_forward_days_test_days_limits_the_tested_days():
    folds = day_folds(_split(kind="walk_forward_days", train_days=2, test_days=2), DAYS)
    assert [f.test for f in folds] == [("2020-01-09",), ("2020-01-10",)]


def test_more_days_than_the_data_names_the_days_found():
    with pytest.raises(ValueError, match=r"split.test_days: expected 4 \+ 1 \+ 3 days.*7 days: 2020-01-02"):
        day_folds(_split(kind="days", train_days=4, val_days=1, test_days=3), DAYS)
    with pytest.raises(ValueError, match="split.test_days: expected days the data has.*got '2020-01-11'"):
        day_folds(_split(kind="days", train_days=2, test_days=["2020-01-11"]), DAYS)


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ({"kind": "holdout", "train_days": 3}, "train_days: only with kind = 'days' or 'walk_forward_days'"),
        ({"kind": "days", "train_days": 2, "test_days": 1, "train": 0.5}, "train: fractions of rows"),
        ({"kind": "days", "train_days": 2}, "test_days: required key is missing"),
        ({"kind": "days", "train_days": 0, "test_days": 1}, "train_days: expected a count >= 1, got 0"),
        ({"kind": "days", "train_days": ["2020-1-3"], "test_days": 1}, "expected ISO dates (YYYY-MM-DD)"),
        ({"kind": "days", "train_days": ["2020-01-03"], "test_days": ["2020-01-02"]}, "test_days: expected days after"),
        ({"kind": "walk_forward_days", "train_days": ["2020-01-02"]}, "got a list; use kind = 'days'"),
        ({"kind": "days", "train_days": 1, "test_days": 1, "step": 2}, "step, rolling: only with kind"),
        ({"kind": "days", "train_days": 1, "test_days": 1, "pool": "every"}, "split.pool: expected one of"),
    ],
)
def test_day_split_problems_are_located(split, message):
    text = _problems(split=split)
    assert message in text and "split" in text


def test_compute_section():
    exp = parse_experiment({**BASE, "compute": {"executor": "dask", "address": "tcp://10.0.0.1:8786", "workers": 4}})
    assert exp.compute.address == "tcp://10.0.0.1:8786" and not exp.compute.fail_fast
    assert parse_experiment(BASE).compute.executor == "local"
    assert 'address: only with executor = "dask"' in _problems(compute={"address": "tcp://h:1"})
    assert "expected a scheduler address such as 'tcp://host:8786', got 'h:1'" in _problems(
        compute={"executor": "dask", "address": "h:1"}
    )
    assert "compute.workers: expected a number >= 1, got 0" in _problems(compute={"workers": 0})
    assert "compute.executor: expected one of 'local', 'dask', got 'ray'" in _problems(compute={"executor": "ray"})
