"""The run folder has one owner (signalbench._runfolder): a versioned layout that every reader goes through.

Each reader (report, audit, streaming's label definition and feature sets, the sink's identity) opens a folder of the
previous layout (no run.json) and refuses one of a later layout with an error naming the version. The model folder
name is made and parsed by one rule, and a layout-2 folder records each folder's model and fold.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from signalbench import RunFolderError
from signalbench._runfolder import (
    VERSION,
    fold_of_model,
    layout_of,
    model_folder,
    model_folders,
    parse_model_folder,
    write_json,
    write_run_record,
)
from signalbench.experiment import compare
from signalbench.experiment.audit_run import audit_run
from signalbench.reports.html import build_report
from signalbench.streaming.processor import feature_sets_of
from signalbench.streaming.realised import first_unseen_row, label_spec
from signalbench.streaming.serve import sink_identity

CONFIG = {
    "name": "layout",
    "seed": 5,
    "device": "cpu",
    "data": {"kind": "synthetic", "n": 2400, "edge": 0.3, "ticks_per_day": 1200},
    "labels": {"kind": "direction", "horizon": 1, "stationary_quantile": 0.3},
    "split": {"kind": "walk_forward", "n_folds": 2},
    "costs": {"fee_bps": 0.05, "half_spread_bps": 0.1},
    "baselines": {"exclude": ["majority", "persistence"]},
    "models": [],
    "strategies": [{"rule": "sign"}],
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runfolder") / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(json.loads(json.dumps(CONFIG)), out=out, progress=False, report=False)
    return out


def _copy(run: Path, tmp_path: Path, layout: int | None) -> Path:
    folder = shutil.copytree(run, tmp_path / "copy")
    if layout is None:
        (folder / "run.json").unlink()
    else:
        record = json.loads((folder / "run.json").read_text())
        write_json(folder / "run.json", {**record, "layout": layout})
    return folder


def _report(folder: Path) -> object:
    return build_report(folder, tearsheets=False)


def _audit(folder: Path) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return audit_run(folder, write=False)


def _labels(folder: Path) -> object:
    return label_spec(folder, folder / "models" / "logistic-fold2")


def _unseen(folder: Path) -> object:
    return first_unseen_row(folder, folder / "models" / "logistic-fold2", source=folder / "config.json")


def _features(folder: Path) -> object:
    return feature_sets_of(folder / "models" / "logistic-fold2")


def _identity(folder: Path) -> object:
    processor = SimpleNamespace(
        model_dir=folder / "models" / "logistic-fold1", name="logistic", mode="window", backend="torch", classes=[0]
    )
    cfg = SimpleNamespace(stream="s", out="o", group="g", dead="d")
    return sink_identity(processor, cfg, {"source": "x"})


READERS = [_report, _audit, _labels, _unseen, _features, _identity]


def test_a_new_run_folder_records_its_layout_and_every_model_folder(run):
    record = json.loads((run / "run.json").read_text())
    assert record["layout"] == VERSION == 2
    on_disk = sorted(p.name for p in (run / "models").iterdir())
    assert sorted(record["models"]) == on_disk
    assert record["models"]["logistic-fold2"] == {"model": "logistic", "fold": 2}


@pytest.mark.parametrize("reader", READERS, ids=lambda f: f.__name__.strip("_"))
def test_each_reader_opens_a_folder_of_the_previous_layout(run, tmp_path, reader):
    old = _copy(run, tmp_path, layout=None)
    assert layout_of(old) == 1
    assert reader(old) is not None


def test_the_previous_layout_reads_the_same_as_the_current_one(run, tmp_path):
    old = _copy(run, tmp_path, layout=None)
    moved = {name: {k: old / p.relative_to(run) for k, p in f.items()} for name, f in model_folders(run).items()}
    assert model_folders(old) == moved
    assert (_labels(old).threshold, _labels(old).kind) == (_labels(run).threshold, _labels(run).kind)
    thresholds = json.loads((run / "metrics.json").read_text())["labels"]
    assert _labels(run).threshold == thresholds[1]["threshold"]  # fold 2's model: fold 2's fitted threshold
    assert _features(old) == _features(run) == json.loads((run / "config.json").read_text())["features"]
    assert _identity(old)["run_dir"] == str(old)


@pytest.mark.parametrize("reader", READERS, ids=lambda f: f.__name__.strip("_"))
def test_each_reader_refuses_a_folder_of_a_future_layout_naming_the_version(run, tmp_path, reader):
    future = _copy(run, tmp_path, layout=VERSION + 1)
    message = rf"run\.json layout: expected a run folder layout from 1 to {VERSION} .*got layout {VERSION + 1} at "
    with pytest.raises(RunFolderError, match=message + r".*run\.json; .*upgrade") as info:
        reader(future)
    assert info.value.key == "layout"


def test_model_folders_are_named_and_parsed_by_one_rule():
    for name in ("lstm", "a-fold", "x-fold2x", "fold3"):
        for k, n in ((0, 1), (0, 3), (2, 3)):
            folder = model_folder(name, k, n)
            assert parse_model_folder(folder) == (name, k + 1 if n > 1 else 1)
    assert parse_model_folder("lstm-fold0") == ("lstm-fold0", 1)  # folds count from 1


def test_layout_2_records_a_model_whose_name_looks_like_a_fold(tmp_path):
    run = tmp_path / "run"
    (run / "models" / "x-fold2").mkdir(parents=True)
    write_json(run / "config.json", {})
    write_run_record(run, {"x-fold2": 1})
    assert model_folders(run) == {"x-fold2": {1: run / "models" / "x-fold2"}}
    assert fold_of_model(run / "models" / "x-fold2") == 0
    (run / "run.json").unlink()  # layout 1 could not tell: it reads fold 2 of "x"
    assert model_folders(run) == {"x": {2: run / "models" / "x-fold2"}}
