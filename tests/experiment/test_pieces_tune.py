"""``tune = true`` in a multi-piece run: one choice per (model, fold, pool group) on the group's validation pieces."""

from __future__ import annotations

import numpy as np
import pytest

from signalbench import strategies
from signalbench.compute import TaskStore
from signalbench.experiment import compare

TICKS = 200
FEE = 0.1
GRID = [0.4, 0.5, 0.6]


def config(**more):
    return {
        "name": "tuned",
        "seed": 3,
        "data": {"kind": "synthetic", "n": 3 * TICKS, "ticks_per_day": TICKS, "symbols": 2, "edge": 0.4},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "days", "train_days": 1, "val_days": 1, "test_days": 1, "pool": "all"},
        "baselines": {"exclude": ["persistence", "majority"]},
        "costs": {"fee_bps": FEE},
        "strategies": [{"rule": "threshold", "enter": GRID, "tune": True}],
        "compute": {"workers": 1},
        **more,
    }


def _positions(proba: np.ndarray, enter: float) -> np.ndarray:
    """The threshold rule written out: +1 / -1 when up / down is strictly the most likely class and above ``enter``."""
    p = np.nan_to_num(proba, nan=0.0)
    top = np.sort(p, axis=1)
    strict = top[:, -1] > top[:, -2]
    out = np.zeros(len(p))
    out[strict & (p.argmax(axis=1) == 2) & (p[:, 2] > enter)] = 1.0
    out[strict & (p.argmax(axis=1) == 0) & (p[:, 0] > enter)] = -1.0
    return out


def _net(position: np.ndarray, price: np.ndarray) -> float:
    """Total additive net return by the engine's documented convention, no delay, closed on the last row."""
    e = position.copy()
    e[-1] = 0.0
    gross = np.r_[0.0, e[:-1] * (price[1:] / price[:-1] - 1.0)]
    cost = np.abs(np.diff(e, prepend=0.0)) * FEE / 1e4
    return float((gross - cost).sum())


def test_a_tuned_choice_is_the_brute_force_best_on_the_validation_pieces_only(tmp_path, monkeypatch):
    seen = []
    real = strategies.tune

    def spy(rule, signal, price, *args, **kwargs):
        seen.append(np.asarray(price, dtype=np.float64).copy())
        return real(rule, signal, price, *args, **kwargs)

    monkeypatch.setattr(strategies, "tune", spy)
    res = compare(config(), out=tmp_path / "run", report=False)
    assert res.ok
    assert not res.audit.findings  # a tuned run is audited like any other: its validation predictions are no leak
    store = TaskStore(tmp_path / "run" / "tasks")
    tasks = {t.key: t for t in res.graph.tasks}
    assert [(e["model"], e["fold"], e["group"]) for e in res.metrics["tuning"]] == [("logistic", 1, "all")]
    entry = res.metrics["tuning"][0]
    tune = tasks[res.graph.tunes[("logistic", 0, "all")]]
    val_days, val_prices = set(), []
    totals = dict.fromkeys(GRID, 0.0)
    for name, key in tune.deps.items():
        if not name.startswith("val_"):
            continue
        val = store.load(key)
        piece = store.load(tune.deps[name.replace("val_", "piece_")])
        v0, v1 = val["span"]
        price = piece["price"].to_numpy()[v0:v1]
        val_prices.append(price)
        val_days.add(tasks[key].tags["day"])
        for enter in GRID:
            totals[enter] += _net(_positions(val["proba"], enter), price)
    assert len(val_prices) == 2  # both symbols' validation day, pooled
    best = max(GRID, key=lambda e: totals[e])
    expected = {"enter": best} if totals[best] > 0 else "flat"
    assert entry["chosen"] == expected
    assert res.metrics["columns"]["logistic:threshold(tuned)"]["chosen"] == [expected]
    assert entry["n_trials"] == len(GRID)
    assert entry["rests_on"]["pieces"] == sorted(entry["rests_on"]["pieces"]) and len(entry["rests_on"]["pieces"]) == 2
    table = dict(zip(entry["table"]["candidate"], entry["table"]["net_return"]))
    for enter in GRID:
        assert table[f"enter={enter}"] == pytest.approx(totals[enter], abs=1e-12)
    # the tuning read the validation pieces' rows and nothing else (the tested day is another day)
    tested_days = {p["day"] for p in res.metrics["pieces"]["tested"]}
    assert not val_days & tested_days
    assert len(seen) == 2 and all(any(np.array_equal(s, v) for v in val_prices) for s in seen)
    # the tested pieces trade the chosen parameters
    col = "logistic:threshold(tuned)"
    for key in (k for k, t in tasks.items() if t.kind == "predict" and t.tags.get("part") != "val"):
        pred, piece = store.load(key), store.load(tasks[key].deps["piece"])
        start, stop = pred["span"]
        position = np.zeros(stop - start) if expected == "flat" else _positions(pred["proba"], best)
        net = _net(position, piece["price"].to_numpy()[start:stop])
        got = res.metrics["per_symbol"][tasks[key].tags["symbol"]][col]["net_return"]
        assert got == pytest.approx(net, abs=1e-12)


def test_a_model_added_leaves_the_other_models_tuning_keys_unchanged():
    from signalbench.data.pieces import discover
    from signalbench.experiment.config import parse_experiment
    from signalbench.experiment.graph import build_graph

    keys = []
    for models in ([], [{"name": "ofi_sign"}]):
        exp = parse_experiment(config(models=models))
        pieces = discover(exp.data, exp.base_dir, seed=exp.seed)
        graph = build_graph(exp, pieces, 1, exp.model_specs())
        keys.append(graph.tunes[("logistic", 0, "all")])
        kinds = [t.kind for t in graph.tasks]
        assert kinds.count("tune") == len(exp.model_specs())  # one per fit: 1 fold, 1 pool group
    assert keys[0] == keys[1]


def test_pooled_deflated_sharpe_counts_every_tuned_candidate_as_a_trial():
    from signalbench.engine import deflated_sharpe_row
    from signalbench.experiment.combine import PieceResult, combine

    rng = np.random.default_rng(1)
    days = [f"2020-{1 + d // 28:02d}-{1 + d % 28:02d}" for d in range(30)]
    cols = ["a:threshold(tuned)", "b:sign", "oracle"]
    daily = rng.normal(1e-3, 1e-3, (30, 3))

    def parts(extra):
        out = []
        for d, day in enumerate(days):
            summary = {
                "rows": 10,
                "labelled": 10,
                "net_return": dict(zip(cols, daily[d])),
                "info": {},
                "benchmarks": ["oracle"],
                "extra_trials": extra,
            }
            out.append(PieceResult("S", day, {"summary": summary, "outputs": None, "labels": None}))
        return out

    for extra in (0, 4):
        pooled = combine(parts(extra))["pooled"]
        want = deflated_sharpe_row(daily[:, :2], n_trials=2 + extra)
        assert [pooled[c]["deflated_sharpe"] for c in cols[:2]] == pytest.approx(list(want), rel=1e-12)


def test_no_task_a_tuning_rests_on_reads_a_tested_day():
    from signalbench.data.pieces import discover
    from signalbench.experiment.config import parse_experiment
    from signalbench.experiment.graph import build_graph

    split = {"kind": "walk_forward_days", "train_days": 2, "val_days": 1, "pool": "symbol"}
    exp = parse_experiment(config(split=split, data={**config()["data"], "n": 6 * TICKS}))
    pieces = discover(exp.data, exp.base_dir, seed=exp.seed)
    graph = build_graph(exp, pieces, 1, exp.model_specs())
    tasks = {t.key: t for t in graph.tasks}
    tested = {}  # fold -> the days its backtests price
    for t in tasks.values():
        if t.kind == "predict" and t.tags.get("part") != "val":
            tested.setdefault(int(t.tags["fold"]), set()).add(t.tags["day"])
    assert len(graph.tunes) == 3 * 2  # 3 folds x 2 symbols, one model

    def closure(key):
        out, todo = set(), [key]
        while todo:
            k = todo.pop()
            if k not in out:
                out.add(k)
                todo += list(tasks[k].deps.values())
        return out

    for (_, k, group), key in graph.tunes.items():
        read = [tasks[d] for d in closure(key) if tasks[d].kind == "piece"]
        assert read and {t.tags["symbol"] for t in read} == {group}
        assert max(t.tags["day"] for t in read) < min(tested[k + 1])  # only days before the fold's tested day
