"""A multi-piece run writes each neural fit's training history (history/), and its report draws the learning curve."""

from __future__ import annotations

import json

import pytest

from signalbench._runfolder.read import histories_of
from tests.experiment.test_pieces_run import config, run

LSTM = {"name": "lstm", "seq_len": 3, "hidden_size": 4, "num_layers": 1, "epochs": 3, "batch_size": 64, "patience": 100}


@pytest.mark.parametrize("pool", ["all", "symbol"])
def test_each_fit_of_a_multi_piece_run_leaves_its_history_per_fold(tmp_path, pool):
    split = {"kind": "walk_forward_days", "train_days": 2, "val_days": 1, "pool": pool}
    cfg = config(days=5, symbols=2, split=split, models=[LSTM], exclude=("persistence", "logistic"))
    run(cfg, tmp_path / "run", report=True)
    folder = tmp_path / "run" / "history"
    names = sorted(p.stem for p in folder.glob("*.json"))
    assert names == (["lstm"] if pool == "all" else ["lstm@SYN0", "lstm@SYN1"])
    for name in names:
        per_fold = json.loads((folder / f"{name}.json").read_text())
        assert len(per_fold) == 2  # days 4 and 5 tested: two folds, each its own fit
        for fold in per_fold:
            assert [e["epoch"] for e in fold] == [1, 2, 3]  # patience 100: every epoch runs
            assert all(e["train_loss"] > 0 for e in fold)
    shown = histories_of(tmp_path / "run")
    assert sorted(shown) == names and all(len(h) == 3 for h in shown.values())  # the last fold's, for the report
    assert "Training history" in (tmp_path / "run" / "report.html").read_text()


def test_models_without_epochs_write_no_history(tmp_path):
    run(config(days=4, symbols=2), tmp_path / "run")
    assert not (tmp_path / "run" / "history").exists()
