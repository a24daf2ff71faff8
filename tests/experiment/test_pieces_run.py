"""Multi-piece experiments (symbols x days) as a graph of cached tasks: folds, pooling, leakage, combination, reruns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from signalbench.data.pieces import discover
from signalbench.experiment import compare
from signalbench.experiment.config import parse_experiment
from signalbench.experiment.graph import build_graph
from signalbench.experiment.piecefolds import fold_members
from tests.experiment.killrun import kill_run_once_stored

TICKS = 200


def config(days=4, symbols=2, split=None, exclude=("persistence",), **more):
    split = split or {"kind": "walk_forward_days", "train_days": 2, "val_days": 1, "pool": "all"}
    return {
        "name": "pieces",
        "seed": 3,
        "data": {"kind": "synthetic", "n": days * TICKS, "ticks_per_day": TICKS, "symbols": symbols, "edge": 0.4},
        "labels": {"kind": "direction", "horizon": 1},
        "split": split,
        "baselines": {"exclude": list(exclude)},
        "costs": {"fee_bps": 0.1},
        "compute": {"workers": 1},
        **more,
    }


def run(cfg, out: Path, **kw):
    return compare(cfg, out=out, report=kw.pop("report", False), **kw)


def _pieces(cfg):
    exp = parse_experiment(cfg)
    return exp, discover(exp.data, exp.base_dir, seed=exp.seed)


# ----------------------------------------------------------------------------------------------------- the folds


def test_day_folds_test_the_same_days_for_every_symbol():
    exp, pieces = _pieces(config(days=5, symbols=3))
    folds = fold_members(exp.split, [p.day for p in pieces])
    assert len(folds) == 2  # days 4 and 5 tested, one each
    for members in folds:
        by_role: dict[str, set] = {}
        for m in members:
            by_role.setdefault(m.role, set()).add(pieces[m.piece].day)
        tested = [pieces[m.piece] for m in members if m.role == "test"]
        assert sorted(p.symbol for p in tested) == ["SYN0", "SYN1", "SYN2"]
        assert len({p.day for p in tested}) == 1
        assert max(by_role["train"]) < min(by_role["val"]) < min(by_role["test"])  # whole days, in time order


def test_pooled_fits_once_per_fold_and_per_symbol_fits_each_symbol():
    for pool, groups in (("all", 1), ("symbol", 2)):
        cfg = config(split={"kind": "walk_forward_days", "train_days": 2, "val_days": 1, "pool": pool})
        exp, pieces = _pieces(cfg)
        graph = build_graph(exp, pieces, 1, exp.model_specs())
        fits = [t for t in graph.tasks if t.kind == "fit"]
        assert len(fits) == 2 * 1 * groups  # 2 models (majority, logistic) x 1 fold x groups
        if pool == "symbol":
            assert {t.tags["group"] for t in fits} == {"SYN0", "SYN1"}
            by_key = {t.key: t for t in graph.tasks}
            for t in fits:  # each symbol's fit reads only its own pieces
                read = {by_key[key].tags["symbol"] for name, key in t.deps.items() if name.startswith("piece_")}
                assert read == {t.tags["group"]}


def test_no_fit_frame_holds_a_tested_row(tmp_path, monkeypatch):
    from signalbench.signals import registry

    seen = []
    cls = registry.get("logistic")
    honest = cls.fit

    def spy(self, X, y, **kw):
        seen.append((np.asarray(X, dtype=np.float64), kw.get("X_val")))
        return honest(self, X, y, **kw)

    monkeypatch.setattr(cls, "fit", spy)
    cfg = config(exclude=("persistence", "majority"))
    res = run(cfg, tmp_path / "run")
    assert len(seen) == 1
    tested = pd.read_parquet(tmp_path / "run" / "piece_returns.parquet")
    exp, pieces = _pieces(cfg)
    from signalbench.data.pieces import load_piece

    test_days = set(tested["day"])
    rows = {
        tuple(np.round(r, 12))
        for p in pieces
        if p.day in test_days
        for r in load_piece(p, exp.features, spread=False).features.dropna().to_numpy()
    }
    X, X_val = seen[0]
    trained = {tuple(np.round(r, 12)) for r in X[np.isfinite(X).all(axis=1)]}
    assert trained and not trained & rows  # no row of a tested day was given to fit
    assert X_val is not None and not {tuple(np.round(r, 12)) for r in X_val.dropna().to_numpy()} & rows
    assert res.ok


# ----------------------------------------------------------------------------------------------- the combination


def _by_hand(run_dir: Path, metrics: dict) -> None:
    """Check the daily, per-symbol and pooled blocks against the per-row returns in the run folder."""
    long = pd.read_parquet(run_dir / "piece_returns.parquet")
    columns = list(metrics["pooled"])
    daily = long.groupby("day")[columns].sum()
    assert metrics["daily"]["index"] == list(daily.index)
    for c in columns:
        np.testing.assert_allclose(metrics["daily"]["returns"][c], daily[c].to_numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(metrics["pooled"][c]["net_return"], long[c].sum(), rtol=1e-10, atol=1e-15)
        for sym, part in long.groupby("symbol"):
            np.testing.assert_allclose(
                metrics["per_symbol"][sym][c]["net_return"], part[c].sum(), rtol=1e-10, atol=1e-15
            )
        oracle = long["oracle"].sum()
        np.testing.assert_allclose(metrics["pooled"][c]["signal_efficiency"], long[c].sum() / oracle, rtol=1e-10)
        equity = 1 + np.cumsum(daily[c].to_numpy())
        dd = np.min(equity / np.maximum.accumulate(np.r_[1.0, equity])[1:] - 1)
        np.testing.assert_allclose(metrics["pooled"][c]["max_drawdown"], min(dd, 0.0), atol=1e-12)


def test_short_sample_gives_null_sharpe_and_a_note(tmp_path):
    res = run(config(days=5), tmp_path / "run", report=True)
    assert (tmp_path / "run" / "report.html").is_file()
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    _by_hand(tmp_path / "run", m)
    assert m["pieces"]["missing"] == [] and len(m["pieces"]["tested"]) == 4  # 2 symbols x 2 tested days
    assert all(v["sharpe"] is None and v["deflated_sharpe"] is None for v in m["pooled"].values())
    assert any("fewer than 20" in n for n in m["notes"])
    assert m["per_day"]["2020-01-08"]["oracle"]["rests_on"] == {"symbols": 2, "rows": 2 * TICKS}
    assert m["per_symbol"]["SYN1"]["oracle"]["rests_on"] == {"days": 2, "rows": 2 * TICKS}
    assert m["per_symbol"]["SYN0"]["logistic:sign"]["macro_f1"] is not None
    assert m["per_symbol"]["SYN0"]["oracle"]["macro_f1"] is None
    assert res.ok
    html = (tmp_path / "run" / "report.html").read_text()
    assert "audit: clean" in html and "audit: not made" not in html  # the run's own audit (audit.json)
    assert "walk_forward_days (pool all): each day wholly train, validation or tested" in html
    assert "purge gap" not in html.split("<h2>")[0]
    assert "&#34;kind&#34;: &#34;direction&#34;" in html  # the labels as configured, not "null"


@pytest.mark.slow
def test_pooled_daily_sharpe_by_hand(tmp_path):
    cfg = config(
        days=23,
        exclude=("persistence", "majority"),
        split={"kind": "days", "train_days": 2, "val_days": 0, "test_days": 21, "pool": "all"},
    )
    cfg["data"]["n"] = 23 * 120
    cfg["data"]["ticks_per_day"] = 120
    run(cfg, tmp_path / "run", report=True)
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    _by_hand(tmp_path / "run", m)
    daily = np.asarray(m["daily"]["returns"]["logistic:sign"])
    assert daily.size == 21
    by_hand = daily.mean() / daily.std(ddof=1) * np.sqrt(252)
    np.testing.assert_allclose(m["pooled"]["logistic:sign"]["sharpe"], by_hand, rtol=1e-10)
    assert 0.0 <= m["pooled"]["logistic:sign"]["deflated_sharpe"] <= 1.0
    assert m["pooled"]["oracle"]["deflated_sharpe"] is None  # benchmarks are not trials
    assert (tmp_path / "run" / "report.html").is_file()


# --------------------------------------------------------------------------------------------- cache and reruns


def test_a_model_added_runs_only_its_tasks(tmp_path):
    cache = tmp_path / "cache"
    first = run(config(exclude=("persistence", "logistic")), tmp_path / "a", cache=cache)
    second = run(config(exclude=("persistence",)), tmp_path / "b", cache=cache)
    assert first.ok and second.ok
    kinds = {}
    for key in second.run.computed:
        task = next(t for t in second.graph.tasks if t.key == key)
        kinds.setdefault(task.kind, []).append(task.tags.get("model"))
    assert set(kinds) == {"fit", "predict", "backtest"}  # no piece or labels task again
    assert set(kinds["fit"]) == {"logistic"} and set(kinds["predict"]) == {"logistic"}
    old = {t.key for t in first.graph.tasks if t.kind in ("fit", "predict")}
    assert old <= set(second.run.cached)  # the majority's fit and predict keys are unchanged


def test_same_seed_gives_identical_metrics(tmp_path):
    run(config(), tmp_path / "a")
    run(config(), tmp_path / "b")
    a = (tmp_path / "a" / "metrics.json").read_text()
    assert a == (tmp_path / "b" / "metrics.json").read_text()


def test_a_bad_piece_is_reported_and_the_others_finish(tmp_path, monkeypatch):
    from signalbench.cli import main
    from signalbench.data import pieces as mod
    from signalbench.data._errors import DataFormatError

    honest = mod._load_synthetic

    def corrupt(source):
        if source["start"] == "2020-01-08" and source["seed"] == bad_seed:
            raise DataFormatError("SYN1_2020-01-08: expected a readable file, got garbage at row 3", path="SYN1")
        return honest(source)

    cfg = config(days=5)
    exp, pieces = _pieces(cfg)
    bad_seed = next(p.source["seed"] for p in pieces if p.id == "SYN1/2020-01-08")  # tested only
    monkeypatch.setattr(mod, "_load_synthetic", corrupt)
    res = run(cfg, tmp_path / "run")
    m = res.metrics
    assert not res.ok
    assert {(x["symbol"], x["day"], x["task"]) for x in m["pieces"]["missing"]} == {("SYN1", "2020-01-08", "piece")}
    assert "garbage at row 3" in m["pieces"]["missing"][0]["error"]
    tested = {(p["symbol"], p["day"]) for p in m["pieces"]["tested"]}
    assert tested == {("SYN0", "2020-01-07"), ("SYN1", "2020-01-07"), ("SYN0", "2020-01-08")}
    assert any("SYN1/2020-01-08" in n for n in m["notes"])
    assert m["per_day"]["2020-01-08"]["oracle"]["rests_on"]["symbols"] == 1
    toml = tmp_path / "e.toml"
    toml.write_text(_toml(cfg))
    assert main(["run", str(toml), "--out", str(tmp_path / "cli"), "--quiet", "--no-report"]) == 1


def _toml(cfg: dict) -> str:
    lines = [f'name = "{cfg["name"]}"', f"seed = {cfg['seed']}"]
    for section in ("data", "labels", "split", "baselines", "costs", "compute"):
        lines.append(f"[{section}]")
        for k, v in cfg[section].items():
            lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def test_validate_names_the_days_found():
    from signalbench.experiment import validate
    from signalbench.experiment.config import ConfigError

    summary = validate(config(days=5))
    assert "10 pieces: 2 symbol(s) (SYN0, SYN1) x 5 day(s)" in summary and "test 2020-01-08" in summary
    cfg = config(days=3, split={"kind": "days", "train_days": 2, "val_days": 1, "test_days": 2})
    with pytest.raises(ConfigError, match=r"split.test_days: expected 2 \+ 1 \+ 2 days in the data, got 3 day"):
        validate(cfg)
    tuned = [{"rule": "threshold", "enter": [0.4, 0.5], "tune": True}]
    assert "4 pieces" in validate(config(days=2, split={"kind": "holdout"}, strategies=tuned))
    no_val = {"kind": "walk_forward_days", "train_days": 2, "val_days": 0, "pool": "all"}
    with pytest.raises(ConfigError, match=r"strategies\[0\].tune: expected validation days in fold 1 \(pool group all"):
        validate(config(split=no_val, strategies=tuned))


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_recomputes_only_what_is_missing(tmp_path):

    from signalbench.compute import TaskStore
    from signalbench.experiment.multirun import read_run_config

    cfg = config(days=6)
    toml = tmp_path / "e.toml"
    toml.write_text(_toml(cfg))
    exp, pieces = _pieces(cfg)
    graph = build_graph(exp, pieces, 1, exp.model_specs())
    fits = {t.key for t in graph.tasks if t.kind == "fit"}
    out = tmp_path / "run"
    kill_run_once_stored(toml, out, fits)
    before = TaskStore(out / "tasks").keys()
    assert not (out / "metrics.json").exists() and before & fits and not fits <= before
    resumed = compare(read_run_config(out), out=out, resume=True, report=False)
    assert not set(resumed.run.computed) & before  # finished tasks were not recomputed
    assert set(resumed.run.cached) >= before
    run(cfg, tmp_path / "whole")
    assert (out / "metrics.json").read_text() == (tmp_path / "whole" / "metrics.json").read_text()


LOBSTER = Path("/work/shared/data/lobster")


@pytest.mark.slow
@pytest.mark.skipif(not list(LOBSTER.glob("LOBSTER_SampleFile_*_2012-06-21_*.zip")), reason="no shared LOBSTER samples")
def test_two_lobster_symbols_pooled(tmp_path):
    cfg = {
        "name": "two",
        "data": {"kind": "lobster", "path": str(LOBSTER / "LOBSTER_SampleFile_*_2012-06-21_*.zip"), "levels": 1},
        "labels": {"kind": "smoothed_direction", "horizon": 10, "stationary_quantile": 0.33},
        "split": {"kind": "holdout", "train": 0.6, "val": 0.2, "test": 0.2, "pool": "all"},
        "baselines": {"exclude": ["persistence"]},
        "costs": {"half_spread_bps": "quoted"},
        "compute": {"workers": 1},
    }
    res = run(cfg, tmp_path / "run", report=True)
    m = res.metrics
    assert res.ok and sorted(m["per_symbol"]) == ["AMZN", "GOOG"]
    assert (tmp_path / "run" / "report.html").is_file()  # one tested day: the report goes by row number
    assert m["pooled"]["logistic:sign"]["rests_on"]["symbols"] == 2 and m["pooled"]["oracle"]["sharpe"] is None
    assert len([t for t in res.graph.tasks if t.kind == "fit"]) == 2  # pooled: one fit per model
    long = pd.read_parquet(tmp_path / "run" / "piece_returns.parquet")
    for sym in ("AMZN", "GOOG"):
        np.testing.assert_allclose(
            m["per_symbol"][sym]["oracle"]["net_return"], long[long.symbol == sym]["oracle"].sum()
        )


def test_keys_do_not_depend_on_where_tasks_run():
    exp, pieces = _pieces(config())
    other, _ = _pieces(config(name="other", compute={"executor": "dask", "workers": 7, "cache": "elsewhere"}))
    keys = [t.key for t in build_graph(exp, pieces, 1, exp.model_specs()).tasks]
    assert keys == [t.key for t in build_graph(other, pieces, 1, other.model_specs()).tasks]


def test_which_experiments_go_through_the_graph():
    from signalbench.data.pieces import Piece
    from signalbench.experiment.multirun import is_multi_piece

    one_symbol = [Piece("A", f"2020-01-0{d}", {}) for d in (2, 3)]
    two_symbols = [Piece("A", "2020-01-02", {}), Piece("B", "2020-01-02", {})]
    synthetic = parse_experiment(config(symbols=1, split={"kind": "holdout"}))
    by_day = parse_experiment(config(split={"kind": "days", "train_days": 1, "test_days": 1}))
    lob = {"kind": "lobster", "path": str(LOBSTER / "x.zip")}
    named = parse_experiment({"name": "l", "data": {**lob, "path": [str(LOBSTER / "*.zip")]}}, base_dir=LOBSTER)
    assert not is_multi_piece(synthetic, one_symbol)  # one symbol's days on a row split: the single run, as before
    assert is_multi_piece(synthetic, two_symbols) and is_multi_piece(by_day, one_symbol[:1])
    assert is_multi_piece(named, one_symbol)  # a glob of one symbol's days
    assert not is_multi_piece(named, one_symbol[:1])
