"""Experiment configs: every kind of mistake is reported, all at once, each at its location in the file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from signalbench.experiment import ConfigError, load_experiment, parse_experiment, validate

GOOD = """
name = "t"
seed = 3
[data]
kind = "synthetic"
n = 3000
[labels]
horizon = 1
[[models]]
name = "lstm"
seq_len = 8
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_experiment(_write(tmp_path, text))
    return dict(info.value.problems)


def test_a_good_config_fills_every_default(tmp_path):
    exp = load_experiment(_write(tmp_path, GOOD))
    assert exp.split.kind == "holdout" and exp.costs.fee_bps == 0.0 and exp.features == ["lob_basic"]
    names = [s.name for s in exp.model_specs()]
    assert names == ["lstm", "majority", "persistence", "logistic"]


def test_unknown_keys_get_did_you_mean(tmp_path):
    got = _problems(tmp_path, GOOD.replace("seed = 3", "seeed = 3").replace("horizon = 1", "horizn = 1"))
    assert "did you mean 'seed'" in got["seeed"]
    assert "did you mean 'horizon'" in got["labels.horizn"]


def test_wrong_types(tmp_path):
    text = GOOD.replace("n = 3000", 'n = "many"').replace("horizon = 1", "horizon = 1.5")
    got = _problems(tmp_path, text)
    assert got["data.n"].startswith("expected an integer") and "'many'" in got["data.n"]
    assert got["labels.horizon"].startswith("expected an integer")


def test_impossible_values(tmp_path):
    text = GOOD + "[split]\ntrain = 0.7\nval = 0.3\ntest = 0.2\n"
    got = _problems(tmp_path, text.replace("horizon = 1", "horizon = 0"))
    assert "at most 1" in got["split"]
    assert got["labels.horizon"].startswith("expected a number >= 1")


def test_unregistered_model_and_unknown_hyperparameter(tmp_path):
    text = GOOD + '[[models]]\nname = "lstn"\n[[models]]\nname = "transformer"\nhiden_size = 3\n'
    got = _problems(tmp_path, text)
    assert "did you mean 'lstm'" in got["models[1].name"]
    assert "models[2].hiden_size" in got


def test_wrong_hyperparameter_value_is_reported_at_its_key(tmp_path):
    got = _problems(tmp_path, GOOD.replace("seq_len = 8", "seq_len = 1.5"))
    assert "models[0].seq_len" in got, got


def test_missing_data_file(tmp_path):
    text = GOOD.replace('kind = "synthetic"\nn = 3000', 'kind = "lobster"\npath = "nope.zip"')
    got = _problems(tmp_path, text)
    assert "nope.zip" in got["data.path"]


def test_every_problem_at_once(tmp_path):
    text = GOOD.replace("seed = 3", "seeed = 3").replace("horizon = 1", "horizon = 0") + '[[models]]\nname = "x"\n'
    got = _problems(tmp_path, text)
    assert {"seeed", "labels.horizon", "models[1].name"} <= set(got)


def test_toml_syntax_error(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_experiment(_write(tmp_path, "name = \n"))


def test_strategy_parameters(tmp_path):
    text = GOOD + '[[strategies]]\nrule = "threshold"\nentr = 0.5\n[[strategies]]\nrule = "treshold"\n'
    got = _problems(tmp_path, text)
    assert "did you mean 'enter'" in got["strategies[0].entr"]
    assert "did you mean 'threshold'" in got["strategies[1].rule"]


def test_seq_len_longer_than_the_training_part_is_caught_before_fitting(tmp_path):
    exp = load_experiment(_write(tmp_path, GOOD.replace("n = 3000", "n = 400").replace("seq_len = 8", "seq_len = 200")))
    with pytest.raises(ValueError, match="too few rows"):
        validate(exp)


def test_parse_from_dict_checks_the_same():
    with pytest.raises(ConfigError):
        parse_experiment({"name": "x", "data": {"kind": "synthetic", "n": 10}})


# ------------------------------------------------------------------------------------- [data]: many symbols and days


def test_synthetic_symbols_and_days_default_to_one_symbol_and_the_days_of_n(tmp_path):
    data = load_experiment(_write(tmp_path, GOOD)).data
    assert data.symbols == 1 and data.days is None
    data = load_experiment(_write(tmp_path, GOOD.replace("n = 3000", "n = 3000\nsymbols = 4\ndays = 3"))).data
    assert data.symbols == 4 and data.days == 3


def test_synthetic_symbols_and_days_out_of_range_are_reported_at_their_keys(tmp_path):
    got = _problems(tmp_path, GOOD.replace("n = 3000", "n = 3000\nsymbols = 0"))
    assert got == {"data.symbols": "expected a number >= 1, got 0"}
    got = _problems(tmp_path, GOOD.replace("n = 3000", "n = 3000\nticks_per_day = 1000\ndays = 4"))
    (message,) = got.values()
    assert "days: expected every synthetic day to get at least 2 of the n = 3000 rows" in message


def _data_config(tmp_path: Path, data: str) -> str:
    return GOOD.replace('[data]\nkind = "synthetic"\nn = 3000', "[data]\n" + data)


def test_lobster_and_bars_paths_take_lists_and_globs(tmp_path):
    for name in ("AAA_2020-01-02_0_1_message_1.csv", "AAA_2020-01-02_0_1_orderbook_1.csv", "BBB_1min.csv"):
        (tmp_path / name).write_text("")
    exp = load_experiment(_write(tmp_path, _data_config(tmp_path, 'kind = "lobster"\npath = ["*_message_1.csv"]')))
    assert exp.data.path == ["*_message_1.csv"]
    text = _data_config(tmp_path, 'kind = "bars"\npath = ["B*_1min.csv"]\nsymbol = "BBB"')
    exp = load_experiment(_write(tmp_path, text))
    assert exp.data.path == ["B*_1min.csv"] and exp.data.symbol == "BBB"


def test_a_glob_that_matches_nothing_is_reported_at_its_path_entry(tmp_path):
    (tmp_path / "AAA_2020-01-02_0_1_message_1.csv").write_text("")
    text = _data_config(tmp_path, 'kind = "lobster"\npath = ["AAA_*_message_1.csv", "ZZZ_*.csv"]')
    got = _problems(tmp_path, text)
    assert list(got) == ["data.path[1]"]
    assert "expected a pattern that matches files, got 'ZZZ_*.csv'" in got["data.path[1]"]


def test_an_empty_bars_symbol_is_refused(tmp_path):
    (tmp_path / "prices.csv").write_text("")
    got = _problems(tmp_path, _data_config(tmp_path, 'kind = "bars"\npath = "prices.csv"\nsymbol = ""'))
    assert got == {"data.symbol": "expected a non-empty value, got ''"}
