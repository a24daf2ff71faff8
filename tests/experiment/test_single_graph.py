"""A single-piece run's fits and predictions as cached graph tasks: resume, a shared cache, workers, failures."""

from __future__ import annotations

import json

import pytest
import torch

from signalbench.compute import TaskStore
from signalbench.experiment import compare, parse_experiment
from signalbench.experiment.inputs import load_inputs
from signalbench.experiment.multirun import read_run_config
from signalbench.experiment.preflight import check
from signalbench.experiment.rungraph import build_run_graph
from tests.experiment.killrun import kill_run_once_stored


def config(**over) -> dict:
    """One symbol, two days of synthetic ticks, a row split: a single-piece run (baselines only unless ``models``)."""
    cfg = {
        "name": "single",
        "seed": 4,
        "device": "cpu",
        "data": {"kind": "synthetic", "n": 3000, "edge": 0.6, "ticks_per_day": 1500},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "walk_forward", "train": 0.6, "val": 0.2, "test": 0.3, "n_folds": 2},
        "costs": {"fee_bps": 0.1, "half_spread_bps": 0.2},
        "models": [],
        "strategies": [{"rule": "sign"}, {"rule": "threshold", "enter": [0.4, 0.5], "tune": True}],
        "compute": {"workers": 1},
    }
    cfg.update(over)
    return cfg


def _graph(cfg: dict):
    exp = parse_experiment(cfg)
    return build_run_graph(exp, check(exp, load_inputs(exp)))


def _toml(cfg: dict) -> str:
    lines = [f"{k} = {json.dumps(v)}" for k, v in cfg.items() if not isinstance(v, dict | list)]
    lines.append(f"models = {_inline(cfg['models'])}")
    lines.append(f"strategies = {_inline(cfg['strategies'])}")
    for section in [k for k, v in cfg.items() if isinstance(v, dict)]:
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in cfg[section].items()]
    return "\n".join(lines) + "\n"


def _inline(items: list[dict]) -> str:
    return "[" + ", ".join("{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in d.items()) + "}" for d in items) + "]"


LSTM = {
    "name": "lstm",
    "seq_len": 5,
    "hidden_size": 4,
    "num_layers": 1,
    "bidirectional": False,
    "pooling": "last",
    "head_size": 0,
    "epochs": 3,
    "batch_size": 256,
}


def test_the_graph_has_a_fit_and_predictions_per_model_and_fold_and_keys_that_ignore_other_models():
    cfg = config(baselines={"exclude": ["logistic"]})
    small, large = _graph(cfg), _graph(config())
    kinds = [t.kind for t in small.tasks]
    # inputs, then 2 models (majority, persistence) x 2 folds: a fit, a prediction and a validation prediction each
    assert kinds.count("inputs") == 1 and kinds.count("fit") == 4 and kinds.count("predict") == 8
    assert set(small.fits.values()) < set(large.fits.values())  # logistic added: the others' keys unchanged
    assert set(small.predicts.values()) < set(large.predicts.values()) and set(small.vals.values()) < set(
        large.vals.values()
    )
    assert small.inputs == large.inputs
    other = _graph({**cfg, "costs": {"fee_bps": 3.0}, "compute": {"workers": 2}, "name": "other"})
    assert other.fits == small.fits  # costs, [compute] and the name are not read by a fit
    reseeded = _graph({**cfg, "seed": 5})
    assert not set(reseeded.fits.values()) & set(small.fits.values())  # the seed is (data and models)


def test_a_shared_cache_computes_only_the_added_models_tasks_and_gives_the_same_numbers(tmp_path):
    cache = tmp_path / "cache"
    first = compare(config(baselines={"exclude": ["logistic"]}), out=tmp_path / "a", cache=cache, report=False)
    assert not (tmp_path / "a" / "tasks").exists()  # the store is where cache says
    second = compare(config(), out=tmp_path / "b", cache=cache, report=False)
    graph = _graph(config())
    tags = {t.key: dict(t.tags) for t in graph.tasks}
    assert second.run.computed and {tags[k]["model"] for k in second.run.computed} == {"logistic"}
    assert len(second.run.computed) == 2 * 3  # 2 folds x (fit, predict, predict_val)
    assert set(first.run.computed) <= set(second.run.cached)
    alone = compare(config(), out=tmp_path / "c", report=False)  # its own store: everything computed
    assert len(alone.run.computed) == len(graph.tasks) - 1  # all but the inputs, stored by the run itself
    assert (tmp_path / "b" / "metrics.json").read_bytes() == (tmp_path / "c" / "metrics.json").read_bytes()
    again = compare(read_run_config(tmp_path / "c"), out=tmp_path / "c", resume=True, report=False)
    assert again.run.computed == []  # resuming a complete folder: nothing to run, the same results written again
    assert (tmp_path / "b" / "metrics.json").read_bytes() == (tmp_path / "c" / "metrics.json").read_bytes()


@pytest.mark.slow
def test_two_local_workers_give_the_metrics_of_one(tmp_path):
    one = compare(config(), out=tmp_path / "one", report=False)
    two = compare(config(compute={"workers": 2}), out=tmp_path / "two", report=False)
    assert len(two.run.computed) == len(one.run.computed) > 0
    assert (tmp_path / "one" / "metrics.json").read_bytes() == (tmp_path / "two" / "metrics.json").read_bytes()


def test_write_false_leaves_no_store_behind_and_shows_the_graph_progress(tmp_path, monkeypatch, capsys):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    res = compare(config(), write=False, progress=True)
    assert res.run_dir is None and len(res.run.computed) == len(_graph(config()).tasks) - 1
    assert list(tmp_path.iterdir()) == []  # no run folder, and the temporary task store was removed
    err = capsys.readouterr().err
    assert "fit" in err and "predict" in err and "strategies and backtest" in err


def test_a_failing_fit_names_the_model_and_fold_and_the_folder_resumes(tmp_path, monkeypatch, capsys):
    from signalbench.cli import main
    from signalbench.signals.baselines import MajorityModel

    real = MajorityModel.fit

    def broken(self, X, y, **kwargs):
        raise ValueError("planted failure")

    monkeypatch.setattr(MajorityModel, "fit", broken)
    toml, out = tmp_path / "e.toml", tmp_path / "run"
    toml.write_text(_toml(config()))
    assert main(["run", str(toml), "--out", str(out), "--quiet", "--no-report"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "fit of model 'majority' on fold 1 failed: ValueError: planted failure" in err
    assert f"signalbench run --resume {out}" in err
    assert not (out / "metrics.json").exists() and (out / "config.json").is_file()
    graph = _graph(config())  # the TOML's experiment (synthetic data: its folder is not read)
    stored = TaskStore(out / "tasks").keys()
    assert graph.fits["persistence", 0] in stored and graph.fits["majority", 0] not in stored
    monkeypatch.setattr(MajorityModel, "fit", real)
    assert main(["run", "--resume", str(out), "--quiet", "--no-report"]) == 0  # it used to refuse: "exists already"
    assert "majority:sign" in capsys.readouterr().out and (out / "metrics.json").is_file()
    compare(config(), out=tmp_path / "whole", report=False)
    assert (out / "metrics.json").read_bytes() == (tmp_path / "whole" / "metrics.json").read_bytes()


@pytest.mark.slow
def test_sigkill_mid_fit_then_resume_recomputes_only_what_is_missing(tmp_path):
    cfg = config(models=[LSTM], baselines={"exclude": ["persistence", "logistic"]})
    toml, out = tmp_path / "e.toml", tmp_path / "run"
    toml.write_text(_toml(cfg))
    graph = _graph(cfg)
    # a torch model's last bits depend on torch's thread count: the killed process and this one (which resumes and
    # runs the whole run) use one thread each, whatever earlier tests in this process set
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _kill_and_resume(cfg, toml, out, tmp_path, graph, {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    finally:
        torch.set_num_threads(threads)


def _kill_and_resume(cfg, toml, out, tmp_path, graph, env) -> None:
    fits = set(graph.fits.values())
    first = graph.fits["lstm", 0]  # the first task to run after the inputs; the lstm's fold 2 follows it
    kill_run_once_stored(toml, out, {first}, env)
    before = TaskStore(out / "tasks").keys()
    assert not (out / "metrics.json").exists() and first in before and not fits <= before
    resumed = compare(read_run_config(out), out=out, resume=True, report=False)
    assert not set(resumed.run.computed) & before  # finished tasks were not recomputed
    assert set(resumed.run.cached) >= before and set(resumed.run.computed) >= fits - before
    compare(cfg, out=tmp_path / "whole", report=False)
    # KNOWN DEFECT (issue 17 left open for it): after a SIGKILL of a CLI run, the resumed metrics.json differs from
    # an uninterrupted run's in the last bits of the LSTM's probability scores (brier, log_loss: ~1e-11 relative);
    # every count, choice, position and return is identical. An in-process resume after deleting a fit is
    # byte-identical (not understood yet). Until it is, the numbers are compared to 1e-9 relative.
    resumed_metrics = json.loads((out / "metrics.json").read_text())
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    assert _close(resumed_metrics, whole)


def _close(a, b, path="metrics") -> bool:
    """``a`` equals ``b`` with floats compared to 1e-9 relative (everything else exactly); names the first mismatch."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), path
        return all(_close(a[k], b[k], f"{path}.{k}") for k in a)
    if isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        return all(_close(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    if isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
        return True
    assert a == b, path
    return True
