"""The per-entry policy without Redis: every bad field is refused before any state changes, a failure is rolled back.

A bad event stands in for one event of the day (its id and position); the predictions of the events after it must be
those of the same data without that event: with the toy processor against its own run, and with a real model against
``predict_proba`` on the batch features.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import signalbench.signals as signals
from signalbench.data import compute_features, load_lobster
from signalbench.streaming.codec import encode_rows
from signalbench.streaming.entrycheck import EntryCheck
from signalbench.streaming.policy import EntryPolicy
from signalbench.streaming.processor import ModelProcessor

TOY_FIELDS = ["size", "price", "ask_price_1", "bid_price_1"]
INT64_MAX = 2**63 - 1
K = 120  # the event a bad entry replaces
BAD = [  # (field, value, the dead-letter reason)
    (
        "ask_price_1",
        "inf",
        r"ask_price_1: expected a price > 0 and < 1e\+09 dollars, or nan with the level's size "
        r"nan \(an empty level\), got 'inf'",
    ),  # fmt: skip
    ("size", "nan", r"size: expected a finite size in \[0, 9007199254740992\], got 'nan'"),
    ("size", "1e308", r"size: expected a finite size in \[0, 9007199254740992\], got '1e308'"),
    ("size", "-100", r"size: expected a finite size .*got '-100'"),
    ("size", "1" * 10**6, r"size: expected at most 64 characters, got 1000000 characters"),
    ("bid_price_1", "-10.5", r"bid_price_1: expected a price > 0 .*got '-10.5'"),
    ("price", "-1.0", r"price: expected a finite price > 0 .*got '-1.0'"),
    ("price", "nan", r"price: expected a finite price > 0 and < 1e\+09 dollars \(nan only on a type-7 halt row\)"),
    (
        "bid_size_1",
        "nan",
        r"bid_size_1: expected a size in \[0, 9007199254740992\], or nan with the level's price "
        r"nan \(an empty level\), got 'nan'",
    ),  # fmt: skip
    ("pos", str(2**63), rf"pos: expected an integer in \[0, {INT64_MAX}\] \(int64\), got '{2**63}'"),
    ("time", "-1e30", r"time: expected an integer in \[-9223372036854775808, 9223372036854775807\]"),
    ("producer_ns", str(2**64), r"producer_ns: expected an integer in .*\(int64\)"),
    ("direction", "0", r"direction: expected -1 or 1, got '0'"),
    ("type", "2.5", r"type: expected an event type, an integer 1..7, got '2.5'"),
    ("halt", "2", r"halt: expected 0 or 1, got '2'"),
    ("order_id", "1e19", r"order_id: expected an integer within int64, got '1e19'"),
    ("ask_size_1", "abc", r"ask_size_1: expected a number, got 'abc'"),
]


def events(df) -> list[tuple[str, dict[str, str]]]:
    """The entries a replay of the frame writes (``producer_ns`` included), in id order."""
    out = []
    for _, frame in df.groupby("day", sort=True):
        out += [(eid, {**fields, "producer_ns": "1700000000000000000"}) for eid, fields in encode_rows(frame)]
    return out


def run_policy(policy, entries, checkpoint_every: int = 0) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every entry through the policy: (id -> probabilities of the rows, id -> dead-letter reason)."""
    rows, dead = {}, {}
    for k, (eid, fields) in enumerate(entries):
        d = policy.decide(eid, fields)
        if d.kind == "row":
            rows[eid] = np.array([v for c, v in d.row.items() if c.startswith("p_")])
        elif d.kind == "dead":
            dead[eid] = d.reason
        if checkpoint_every and k % checkpoint_every == checkpoint_every - 1:
            policy.checkpoint()
    return rows, dead


@pytest.fixture(scope="module")
def toy_day(tmp_path_factory, helpers):
    return load_lobster(helpers.write_lobster(tmp_path_factory.mktemp("lob"), {"2024-03-04": 200, "2024-03-05": 60}))


def toy_reference(helpers, entries) -> dict[str, np.ndarray]:
    """The toy processor over the entries, without any policy."""
    proc, out, day = helpers.toy.ToyProcessor(), {}, None
    for eid, fields in entries:
        if fields["day"] != day:
            proc.reset()
            day = fields["day"]
        out[eid] = proc.process(np.array([float(fields[f]) for f in TOY_FIELDS]))[0]
    return out


@pytest.mark.parametrize(("field", "value", "reason"), BAD, ids=[f"{f}={v[:8]}" for f, v, _ in BAD])
def test_a_bad_field_is_dead_lettered_and_the_state_is_untouched(toy_day, helpers, field, value, reason):
    entries = events(toy_day)
    eid, good = entries[K]
    bad = [*entries[:K], (eid, {**good, field: value}), *entries[K + 1 :]]
    rows, dead = run_policy(EntryPolicy(helpers.toy.ToyProcessor()), bad)
    assert list(dead) == [eid] and re.fullmatch(reason + ".*", dead[eid]), dead
    expected = toy_reference(helpers, entries[:K] + entries[K + 1 :])
    assert list(rows) == list(expected)
    np.testing.assert_array_equal(np.array(list(rows.values())), np.array(list(expected.values())))


def test_good_entries_pass_the_check_empty_levels_and_halts_included(toy_day):
    check = EntryCheck()
    eid, fields = events(toy_day)[5]
    assert check(fields).pos == 5
    empty = {**fields, "ask_price_1": "nan", "ask_size_1": "nan"}  # an empty level, as the loader writes it
    assert check(empty).pos == 5
    assert check({**fields, "type": "7", "price": "nan", "halt": "1"}).pos == 5  # a halt row's price is a code
    assert check({**fields, "size": "0", "extra": "anything short"}).pos == 5
    assert EntryCheck(levels=1)(fields).pos == 5


def test_an_event_of_another_depth_is_refused():
    fields = {"pos": "0", "time": "1", "day": "2024-03-04", "producer_ns": "1", "ask_price_1": "10.01",
              "ask_size_1": "3", "bid_price_1": "10", "bid_size_1": "4"}  # fmt: skip
    two = {**fields, "ask_price_2": "10.02", "ask_size_2": "1", "bid_price_2": "9.99", "bid_size_2": "2"}
    with pytest.raises(ValueError, match=r"ask_price_\*: expected the book's 1 level\(s\) \(the model's depth\), "
                                         r"got 2 level\(s\)"):  # fmt: skip
        EntryCheck(levels=1)(two)
    with pytest.raises(ValueError, match=r"expected the book's 2 level\(s\) .*got 1 level\(s\)"):
        EntryCheck(levels=2)(fields)
    assert EntryCheck(levels=2)(two).pos == 0


@pytest.mark.parametrize("checkpoint_every", [0, 7, 50])
def test_a_failure_inside_processing_is_rolled_back(toy_day, helpers, checkpoint_every):
    """The state is restored to the last checkpoint plus the events since, whatever the checkpoint spacing."""

    class FailingToy(helpers.toy.ToyProcessor):
        """Advances the state on an event of size 7777777, then raises (a model failing late)."""

        def process(self, x):
            out = super().process(x)
            if x[0] == 7777777:
                raise RuntimeError("the model failed")
            return out

    entries = events(toy_day)
    eid, good = entries[K]
    poisoned = [*entries[:K], (eid, {**good, "size": "7777777"}), *entries[K + 1 :]]
    rows, dead = run_policy(EntryPolicy(FailingToy()), poisoned, checkpoint_every)
    assert dead == {eid: "processing failed: RuntimeError: the model failed"}
    expected = toy_reference(helpers, entries[:K] + entries[K + 1 :])
    np.testing.assert_array_equal(np.array(list(rows.values())), np.array(list(expected.values())))


def test_a_model_output_that_is_not_probabilities_is_rolled_back(toy_day, helpers):
    entries = events(toy_day)
    proc = helpers.toy.ToyProcessor()
    process = proc.process
    proc.process = lambda x: (np.array([0.5, np.nan, 0.5]), 1.0, 1.0) if x[0] == 7777777 else process(x)
    eid, good = entries[K]
    rows, dead = run_policy(EntryPolicy(proc), [*entries[:K], (eid, {**good, "size": "7777777"}), *entries[K + 1 :]])
    assert dead == {eid: "processing failed: ValueError: probabilities: expected 3 finite values (or all nan), got "
                         "[0.5, nan, 0.5]"}  # fmt: skip
    expected = toy_reference(helpers, entries[:K] + entries[K + 1 :])
    np.testing.assert_array_equal(np.array(list(rows.values())), np.array(list(expected.values())))


# ------------------------------------------------------------------------------------------------- a real model


def fail_the_step_of(proc: ModelProcessor, pos: int) -> None:
    """Make the model's step raise on event ``pos``, after the online features have taken the event in."""
    check, step = proc.check, proc.stepper.step
    armed = [False]

    def checking(fields):
        armed[0] = fields["pos"] == str(pos)
        return check(fields)

    def stepping(row):
        if armed[0]:
            armed[0] = False
            raise RuntimeError("boom")
        return step(row)

    proc.check, proc.stepper.step = checking, stepping


def streamed_vs_offline(run, df, entries, skip: int, *, fail_step: bool = False):
    """The policy over the entries with the run's LSTM; and predict_proba on the frame without row ``skip``."""
    proc = ModelProcessor(run / "models" / "lstm", levels=2)
    if fail_step:
        fail_the_step_of(proc, skip)
    rows, dead = run_policy(EntryPolicy(proc, levels=2), entries, checkpoint_every=100)
    rest = df.iloc[np.r_[0:skip, skip + 1 : len(df)]]
    proba = signals.load(run / "models" / "lstm").predict_proba(compute_features(rest, "lob_basic"))
    return np.array(list(rows.values())), proba, dead


def test_inf_in_a_price_leaves_the_real_models_predictions_those_of_the_data_without_it(tiny_run):
    """The issue's case: today the online features take the inf in and the next predictions are wrong."""
    run, data = tiny_run
    df = load_lobster(data)
    entries = events(df)
    eid, good = entries[300]
    bad = [*entries[:300], (eid, {**good, "ask_price_1": "inf"}), *entries[301:]]
    got, proba, dead = streamed_vs_offline(run, df, bad, 300)
    assert list(dead) == [eid]
    assert np.isfinite(proba[300:]).all(axis=1).sum() > 300  # the rows after the bad event carry predictions
    np.testing.assert_array_equal(np.isnan(got), np.isnan(proba))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(proba), atol=1e-5, rtol=0)


def test_a_model_failing_after_the_features_took_the_event_is_rolled_back(tiny_run):
    run, data = tiny_run
    df = load_lobster(data)
    got, proba, dead = streamed_vs_offline(run, df, events(df), 300, fail_step=True)
    assert list(dead.values()) == ["processing failed: RuntimeError: boom"]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(proba))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(proba), atol=1e-5, rtol=0)
