"""The warnings a run's results carry: one-class classifiers and columns that never trade, with advice that fits."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from signalbench.experiment.results import ExperimentWarning, _checks


def _run_checks(info, trades, model_metrics):
    stats = pd.DataFrame({col: {"n_trades": float(n)} for col, n in trades.items()})
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flat = _checks(info, stats, model_metrics, [], notes)
    warned = [str(w.message) for w in caught if w.category is ExperimentWarning]
    assert set(warned) <= set(notes)  # every warning is also a note of the run
    return flat, warned


@pytest.mark.parametrize(("share", "name"), [([1.0, 0.0, 0.0], "down"), ([0.0, 0.02, 0.98], "up")])
def test_a_classifier_that_predicts_one_direction_on_every_row_is_named(share, name):
    metrics = {"lstm": {"n_rows": 6761, "predicted_share": share}}
    _, notes = _run_checks({}, {}, metrics)
    assert len(notes) == 1
    assert notes[0].startswith(f"lstm: its most probable class is '{name}' on {max(share):.1%} of the tested rows")
    assert f"{round(max(share) * 6761):,} of 6,761" in notes[0]
    assert "majority" in notes[0]  # compared with the baseline that also gives one answer


def test_the_stationary_class_keeps_its_advice_and_a_mixed_classifier_is_not_named():
    metrics = {"a": {"n_rows": 100, "predicted_share": [0.02, 0.96, 0.02]}, "b": {"predicted_share": [0.5, 0.0, 0.5]}}
    _, notes = _run_checks({}, {}, metrics)
    assert len(notes) == 1 and notes[0].startswith("a: its most probable class is 'stationary' on 96.0%")
    assert "size_by_confidence" in notes[0]
    _, notes = _run_checks({}, {}, {"c": {"predicted_share": [0.05, 0.0, 0.95]}})  # 95% exactly: not above
    assert notes == []


def _idle_note(info, model="lstm", metrics=None):
    col = "col"
    metrics = {model: {"n_rows": 10, "predicted_share": [0.3, 0.4, 0.3]}} if metrics is None else metrics
    flat, notes = _run_checks({col: {"model": model, **info}}, {col: 0}, metrics)
    assert flat == [col]
    (note,) = notes
    assert note.startswith("col: never traded on the tested rows (0 trades)")
    return note.split("not informative; ", 1)[1]


def test_the_never_traded_hint_does_not_suggest_the_rule_that_made_the_column():
    hint = _idle_note({"strategy": "size_by_confidence", "params": {"min_edge": 0.1}, "tuned": False})
    assert "lower 'min_edge'" in hint
    assert "('size_by_confidence' with min_edge)" not in hint
    assert "'threshold'" in hint


def test_the_never_traded_hint_follows_the_rule():
    assert "lower 'enter'" in _idle_note({"strategy": "threshold", "params": {"enter": 0.9}, "tuned": False})
    sign = _idle_note({"strategy": "sign", "params": {}, "tuned": False})
    assert "'stationary'" in sign and "size_by_confidence" in sign and "enter" not in sign
    no_edge = _idle_note({"strategy": "size_by_confidence", "params": {}, "tuned": False})
    assert "no direction" in no_edge
    assert "tuning grid" in _idle_note({"strategy": "threshold", "tuned": True, "chosen": [{"enter": 0.9}]})
    regressor = _idle_note({"strategy": "sign", "params": {}, "tuned": False}, metrics={"lstm": {"n_rows": 10}})
    assert "predicted return" in regressor and "p_up" not in regressor


def test_the_majority_baseline_is_not_warned_for_predicting_its_one_class():
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _checks(
            {}, pd.DataFrame(), {"majority": {"n_rows": 9, "predicted_share": [0.0, 0.0, 1.0]}}, [], notes, ["majority"]
        )
    assert notes == []
