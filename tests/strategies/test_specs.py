"""Strategies own their rule table and grid rules; the experiment config asks them (signalbench.strategies.specs)."""

from __future__ import annotations

import pytest

from signalbench.experiment.config import ConfigError, parse_experiment
from signalbench.strategies import specs


def _config(*strategies, kind="synthetic") -> dict:
    data = {"kind": "synthetic", "n": 600} if kind == "synthetic" else {"kind": "bars", "path": __file__}
    return {"name": "t", "data": data, "models": [], "strategies": list(strategies)}


def test_a_tuned_entry_without_a_grid_is_the_rules_problem():
    found = specs.problems("threshold", {"enter": 0.5}, task="classification", tune=True)
    assert found == [("tune", "expected a grid to tune (a parameter given as a list of 2+ values)")]
    assert specs.problems("threshold", {"enter": [0.4, 0.5]}, task="classification", tune=True) == []
    assert specs.problems("threshold", {"enter": [0.5]}, task="classification", tune=True)[0][0] == "tune"


def test_rule_names_entry_keys_and_book_needs_come_from_the_table():
    assert specs.check_rule("hysteresis") == "hysteresis"
    with pytest.raises(ValueError, match=r"expected one of 'sign', .*got 'treshold' \(did you mean 'threshold'\?\)"):
        specs.check_rule("treshold")
    assert specs.entry_params({"rule": "spread_filter", "of": "threshold", "tune": True, "enter": [0.4]}) == {
        "enter": [0.4]
    }
    assert [r for r in specs.RULES if specs.needs_spread(r)] == ["spread_filter"]


def test_the_config_asks_the_strategies_for_its_entries_problems(monkeypatch):
    asked = []

    def problems(rule, params, *, of=None, task, tune=False):
        asked.append((rule, params, of, task, tune))
        return [("enter", "the rule's own words")]

    monkeypatch.setattr(specs, "problems", problems)
    with pytest.raises(ConfigError) as info:
        parse_experiment(_config({"rule": "threshold", "enter": [0.4, 0.5], "tune": True}))
    assert asked == [("threshold", {"enter": [0.4, 0.5]}, None, "classification", True)]
    assert ("strategies[0].enter", "the rule's own words") in info.value.problems


def test_the_config_asks_the_strategies_which_rules_need_a_book(monkeypatch):
    monkeypatch.setattr(specs, "needs_spread", lambda rule: rule == "hysteresis")
    with pytest.raises(ConfigError) as info:
        parse_experiment(_config({"rule": "hysteresis"}, kind="bars"))
    assert any(loc == "strategies[0].rule" and "needs the quoted spread" in msg for loc, msg in info.value.problems)
